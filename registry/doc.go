// Package registry is regkit's registry model: a Registry holds
// repositories, a Repository holds blobs, manifests and tags, and every
// change runs in one metadata transaction with ACR's lock checks inside it.
// It knows nothing of HTTP; registry/httpapi serves it.
//
// Concurrent changes share transactions (group commit): writers queue, and
// one of them at a time commits everything queued in one metadata
// transaction, so N concurrent pushes cost one flush. A write that fails, or
// panics, fails only itself; events are delivered in commit order.
//
// Two caches make pulls cheap. Small blobs (64 KiB or less) are kept in
// memory (WithBlobCache); blobs never change, so that cache is never stale.
// Manifest reads are kept until the next commit of this Registry
// (WithManifestCache), which is correct only while this Registry is the
// only writer of its metadata store: turn it off when several processes
// share one store.
//
// Close refuses new operations (errors wrapping ErrUnavailable) and waits
// for those in flight before it closes the stores, so every operation that
// returned nil is durable. Health reports a closing or closed registry and
// a store that went read-only or failed.
//
// The metadata store's layout (keys, record encodings, a schema version
// checked by New) is owned by registry/internal/schema. Registry.Blobs is a
// read-only view of the blob storage: blobs enter through a repository and
// leave through Collect, so reference counting sees every change.
package registry
