// Package azure is a [blob.Storage] on an Azure Blob Storage container, so
// that several registry frontends, on several hosts, share one registry's
// blobs. It implements [blob.Redirector] (read-only SAS URLs) and
// [blob.Putter] too. Build a Store with [New] from a container client, or
// with [Open] from a service URL and a credential.
//
// # Layout
//
//	<container>/<prefix>/
//	├── blobs/<alg>/<hex>    committed blobs, one block blob per digest
//	└── uploads/<id>         unfinished uploads, one block blob each
//
// The prefix (WithPrefix) lets several registries share a container. Every
// committed blob is verified and whole: it appears under its digest only
// through one request that is atomic in Azure (a Put Blob, or a Put Block
// List), made with If-None-Match: *, so nothing partial or unverified is
// ever visible to Stat, ReaderAt or Walk, and a second commit of the same
// digest is cheap (it finds the blob and stops). Metadata on a committed
// blob records its commit time (Info.CreatedAt).
//
// # Uploads
//
// An upload is one block blob under uploads/, created empty by Writer and
// leased (60 s, renewed every 20 s by the Writer) so that one Writer holds
// it at a time, across processes: Resume and Abort of a leased upload are
// ErrConflict, and a crashed holder frees it within a minute. Writes fill a
// buffer of the block size (WithBlockSize, 8 MiB by default) and stage it
// as one block (Put Block) when full, so small writes do not make tiny
// blocks; a write of a whole block or more is staged from the caller's
// slice without a copy. Close stages the rest and commits the upload
// blob's block list with the upload's state in its metadata (the
// algorithm, the marshaled hash state of crypto/sha256 or sha512, the size
// it covers, the start time) in that one request, so the bytes and the
// state never disagree. Resume, in any process, leases the blob, reads the
// state and the committed block list, and continues without reading a byte
// of content (if the state is missing or does not cover the content, it
// hashes the content instead). Bytes written after the last Close of a
// Writer that dies are lost; the upload resumes from that Close.
//
// Commit verifies size and digest (re-reading the upload blob only for a
// digest of another algorithm than the upload's), then publishes:
//
//   - when the whole upload is still in the buffer (small blobs, the usual
//     monolithic push), one Put Blob of the final name;
//   - otherwise it commits the upload blob and copies it server-side into
//     blocks of the final name (Put Block From URL, 256 MiB ranges, four
//     at a time, the source pinned by If-Match on its ETag and read
//     through a short-lived read-only SAS), then commits them with one Put
//     Block List. The bytes never pass through the client again.
//
// Either request carries If-None-Match: *, and a commit that finds the
// blob there succeeds with the existing Info. Then Commit deletes the
// upload blob. Put does without an upload: up to a block of content is
// verified in memory and written with one Put Blob; more is staged as
// uncommitted blocks of the final name itself (invisible until committed)
// and committed once verified. Blocks carry random IDs per operation, so
// concurrent commits of one digest never mix their blocks.
//
// # Readers and deletion
//
// Object stores have no open file that outlives an unlink, yet blob.Storage
// promises that a reader opened before a Delete reads the whole blob. So
// ReaderAt pins the blob with a snapshot (Snapshot Blob, conditional on the
// ETag it just read, so it never pins a blob being deleted) and every
// ReadAt is one ranged Get Blob of that snapshot. Delete removes a blob
// without snapshots at once. A blob with snapshots cannot be deleted alone,
// so Delete marks it deleted in its metadata instead: Stat, ReaderAt and
// Walk treat it as gone, and a commit of the same digest clears the mark
// (its bytes are the digest's bytes). Reader.Close deletes its snapshot
// and then removes the base blob if it is still marked (If-Match on the
// marked ETag), and Delete retries the removal after marking, so whichever
// of the last reader and the deleter comes second removes the blob. A
// reader that dies without Close leaves its snapshot, and the marked blob
// stays (invisible); [Store.Reap], run now and then, removes snapshots
// older than any reader lives and the marked blobs they alone pinned.
//
// RedirectURL signs a read-only SAS URL of the blob (a service SAS with a
// shared key, a user-delegation SAS with a token credential and a service
// client); it names the blob, not a snapshot, so a download that is still
// running when the blob is deleted fails.
//
// # Errors
//
// Azure's error codes map to blob's classes, with the SDK's error kept as
// the cause: BlobNotFound and ContainerNotFound are ErrNotFound, lease
// conflicts and failed conditions ErrConflict, other 4xx answers
// ErrInvalid, and network errors, 5xx, throttling and authentication
// failures ErrUnavailable (errors.Is(err, syscall.ECONNREFUSED) works
// through them). A Writer whose request failed is spent: Close releases it
// and Resume continues from its last Close.
//
// # Limits
//
// A block blob holds at most 50,000 committed blocks: an upload closed
// and resumed very often (each Close commits a partial block) stops at
// that many. The SDK's retry policy (ClientOptions) decides how long a
// request keeps trying before it fails.
package azure
