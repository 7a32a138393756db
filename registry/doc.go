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
//
// # Import and export
//
// Repository.Target is a repository as an oras-go v2 target (oras.Target,
// oras.GraphTarget, content.Deleter, registry.ReferrerLister): oras.Copy,
// oras.ExtendedCopy and tools built on oras-go move artifacts between a
// repository and any oras-go target in process, through the repository's
// own checks (locks, verified digests, blob visibility, validated manifests).
//
// Registry.Import copies an artifact in, as ACR's import does, from any
// oras-go source: another registry's Repository.Target, an OCI image layout
// folder or tar (OpenLayout, oras-go's content/oci) or a remote registry
// (NewRemote: oras-go's registry/remote with its auth client, anonymous,
// Basic, Bearer or a Docker config file). An index comes with every child,
// or only the chosen platforms; the target tag defaults to the source's; an
// existing tag fails the import before anything is copied unless forced,
// and a locked one always does. Referrers come on request, recursively.
// Blobs another repository holds are linked, not read; the rest are read
// with bounded concurrency, verified and stored before any manifest, and
// manifests are stored children first with the tag set last, so a failed
// or cancelled import leaves nothing that references a missing blob, and a
// retry reads only what is missing. Errors of the source keep their class
// (ErrDigestMismatch, ErrSizeMismatch, ErrTooLarge, ErrNotFound) or are
// ErrSourceFailed. Registry.Export writes an artifact as an OCI image layout,
// a folder or a tar, as oras-go writes one.
//
// # Artifact cache
//
// A CacheRule (SetCacheRule, CacheRules, DeleteCacheRule; ACR's cache
// rules, the pull-through proxies of distribution and zot) maps a local
// repository, or every repository under a prefix ("hub/*"), to an upstream
// repository. The rules are settings of the metadata store, so they survive
// a restart and regadm's changes are in force when registryd next opens the
// folder; this Registry reads them at New and on its own changes.
//
// A manifest read (Manifests.Get or Stat, so a GET or HEAD of /v2/ and
// Repository.Target) of a tag or digest the covered repository lacks
// fetches it from the upstream with Import: the whole artifact (an index
// with every child, and every blob) is stored before the read answers, so
// a client never sees part of one, and the blobs of a cached manifest are
// always there. Concurrent reads of the same reference wait for one fetch
// (singleflight), which goes on, bounded by a timeout and Close, when the
// read that started it gives up. A tag is re-checked upstream after
// WithCacheTagTTL (one HEAD when it has not moved; a moved tag is fetched
// and moved here); while the upstream fails the cached tag is served as it
// is. A digest is never re-checked. Reads the local repository answers are
// not slowed: a registry without rules pays one atomic load, a covered
// repository a rule match and, for a tag, a look at when it was checked.
//
// Upstream failures are typed: a reference the upstream lacks is
// ErrManifestUnknown; an upstream that cannot be reached or fails is
// ErrUpstreamUnavailable (HTTP 503); one that refuses the registry's
// credentials or sends bytes that do not match their digest is
// ErrBadUpstream (HTTP 502). Nothing is stored under a failed fetch. The
// registry's own refusals hold: a write-locked repository caches nothing
// (ErrLocked), a read-locked one asks no upstream.
//
// The registry must present a rule's credentials to the upstream, so a
// rule's Username and Password are stored as given, in clear, in the
// metadata store. A rule may instead name a CredentialSet that the host
// resolves at use (WithCacheCredentials). WithCacheUpstream replaces how
// upstreams are reached (a transport, a proxy, or any oras-go target).
//
// # Tag history
//
// Every move of a tag is recorded in the transaction that makes it, as a
// TagMove: when, the digest before and after (empty: the tag did not exist,
// or no longer does) and the kind of move: a push that names the tag (also
// an import or a cache fill), Tags.Set, an untag (also a purge's), the
// deletion of its manifest (by API, HTTP, purge or retention) or of its
// repository, a restore, a revert. A write that moves nothing (a push of
// the digest the tag already names, a refused or failed move) records
// nothing, and an attribute change is not a move. A tag's moves are in the
// order they were made, each with a distinct time (a move stamped no later
// than the one before it, by a clock that stood still or went back, is
// recorded a nanosecond after it).
//
// Moves are kept for WithTagHistory (default DefaultTagHistory, 7 days,
// ACR's default soft-delete retention; 0 turns recording off). Older moves
// are hidden at once and dropped by Sweep, and so by the background sweep
// (WithSweepInterval), or by PruneTagHistory. Tags.History lists one tag's
// moves and Tags.HistoryAll a repository's, newest first, in pages with a
// cursor; a tag or repository that was deleted keeps its history. Locks do
// not hide history.
//
// Tags.Revert(name, at) points a tag back at the manifest it named at time
// at: the Old of its first move after at, or where it points now if it has
// not moved since. It is a move like Set: a write-locked tag or repository
// refuses it (ErrLocked), and it is recorded (kind MoveRevert), so it can
// be reverted in turn. It is refused with a *ManifestGoneError, naming the
// digest, when that manifest is no longer in the repository; with
// ErrManifestUnknown when the tag did not exist then; with ErrInvalid when
// at is in the future or older than the window. The history is complete
// only for the time it was on: moves made while it was off are unknown to
// Revert.
//
// # Soft delete
//
// With soft delete on (SetSoftDelete, a setting of the metadata store: ACR's
// policy, 1 to 90 days, default 7), every deletion keeps what it deletes
// restorable: a manifest deleted by digest (with its tags and referrers), a
// tag untagged (a /v2/ DELETE by tag), what a purge, a stored policy or
// untagged retention deletes, and a repository deleted whole or left
// without manifests. The items leave the live tables, in the same
// transaction and through the same lock checks as a hard delete, so every
// read path (pull, HEAD, the tags list, the catalog, referrers,
// list-metadata, Snapshot) answers as after a hard delete, and a blob
// DELETE or a repository delete may drop the blob links they used. The
// blobs of a deleted manifest keep their reference in the registry-wide
// blob records, so Collect leaves them until the manifest expires.
//
// Registry.DeletedRepositories, Repository.DeletedManifests and
// Repository.DeletedTags list them newest first, a page at a time (an
// opaque cursor), each with its deletion time and its expiry under the
// current setting. Repository.Restore brings back a manifest by digest, or
// by tag (the most recently deleted manifest that carried it), with the
// same bytes, attributes and tags, as ACR does: an index needs its children
// stored, a referrer its subject, a tag that now points elsewhere needs
// Force (the tag it overwrites is kept as a deleted tag, and a manifest it
// leaves untagged and deletable is soft-deleted), and locks hold. Restoring
// anything in a deleted repository, or pushing to it, brings the
// repository back. A push of a manifest whose digest is soft-deleted is
// refused with ErrSoftDeleted (restore it instead).
//
// ExpireDeleted, run by a background sweep (WithSoftDeleteSweepInterval),
// purges for good what was deleted at least the current number of days ago
// (raising it extends what is already deleted); the blobs then go through
// garbage collection as usual. Every move (delete, restore, purge) of an
// item is one transaction: a crash leaves it live, deleted or gone.
// Events: ActionDelete, ActionUntag and ActionDeleteRepository carry
// Soft; ActionRestore, ActionRestoreRepository and ActionPurgeDeleted
// report restores and expiry.
//
// ACR refuses soft delete together with untagged retention; regkit allows
// both, and a retention deletion is then a soft delete like any other.
package registry
