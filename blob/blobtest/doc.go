// Package blobtest is the conformance suite for [blob.Storage] backends.
// A backend runs it in one line from its own tests:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) (blob.Storage, func() blob.Storage) {
//			dir := t.TempDir()
//			s, err := fs.Open(dir)
//			...
//			return s, func() blob.Storage { s, _ := fs.Open(dir); return s }
//		})
//	}
//
// The suite exercises every method and error class: reads at offsets and
// through http.ServeContent, wrong digests, wrong sizes, trailing data,
// zero-length blobs, malformed digests and upload IDs, sha256 and sha512,
// idempotent commits, resume and abort (also across a reopen, for durable
// backends), concurrent writers of one digest, readers during delete, and a
// 1 GiB blob written and read with constant memory (skipped with -short).
package blobtest
