// Package blob defines regkit's content-addressed blob storage: the [Storage]
// interface, composed from small one-purpose interfaces, its upload [Writer],
// the error classes every backend returns, and helpers shared by backends.
//
// Storage is keyed by digest alone and knows nothing of repositories, tags,
// manifests or HTTP; the registry package adds those. Backends live in
// sub-packages: blob/memory (tests and harnesses), blob/fs (the embedded
// default), and blob/azure (an Azure Blob Storage container, a nested
// module). blob/blobtest is the conformance suite every backend runs in one
// line.
//
// Helpers for code on either side of the interface:
//
//   - [Put] stores a blob whose digest is known, through [Putter] when the
//     backend has one and an upload otherwise.
//   - [NewVerifyingReader] wraps untrusted content (an HTTP body) so that
//     reading it to the end proves its size and digest, trailing data
//     included.
//   - [ParseDigest] validates a caller's digest (go-digest panics on
//     malformed ones); [FormatDigest] formats a running hash quickly.
//   - [NewUploadID] and [CheckUploadID] make and check upload IDs that are
//     safe as file names and object keys.
//   - [Copy] is io.Copy with a context and 1 MiB chunks.
//   - [MarshalHashState] and [RestoreHashState] save and restore an
//     upload's running hash, so durable backends resume without re-reading.
package blob
