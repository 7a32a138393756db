// Package fs is regkit's embedded default [blob.Storage]: blobs are files in
// one directory tree on a local filesystem.
//
// # Layout
//
//	<root>/
//	├── blobs/                      committed blobs, keyed by digest alone
//	│   ├── sha256/
//	│   │   └── ab/                 first two hex digits of the digest
//	│   │       └── abcd…ef         the blob's bytes, one file per digest
//	│   └── sha512/
//	│       └── 9f/
//	│           └── 9f00…           (every available algorithm works alike)
//	├── uploads/                    unfinished uploads, one directory each
//	│   └── 0123…cdef/              upload ID: 32 lowercase hex characters
//	│       ├── data                the bytes written so far
//	│       └── state               hash-state checkpoint (see below)
//	└── tmp/                        staging, on the same filesystem so that
//	    ├── put-*.tmp               rename is atomic: Put's temporary files
//	    └── 0123…cdef.new/          and uploads being created
//
// Everything in blobs/ is complete and verified: a file appears there only
// by an atomic rename after its digest and size were checked and its bytes
// fsynced, and the directory is fsynced after the rename. Nothing partial is
// ever visible to Stat, ReaderAt or Walk.
//
// # Uploads
//
// A new upload is assembled in tmp/<id>.new and renamed into uploads/, so an
// upload directory always holds both files. Writes go to data; the running
// hash (crypto/sha256 and sha512 states are encoding.BinaryMarshaler) is
// saved in state with the offset it covers, the algorithm and the start
// time, every 8 MiB and on Close. state holds two fixed 512-byte slots,
// written alternately with a sequence number and a CRC, so a torn write
// never destroys the previous checkpoint. Resume restores the hash from the
// newest valid slot and hashes only the bytes data holds beyond that offset
// (at most one checkpoint interval after a crash, none after Close). The
// bytes a checkpoint covers were written, not synced: a killed process
// leaves them in the page cache, but a power loss can lose some of them
// while data keeps its length. So a slot also records the system's boot
// (Linux's boot_id), and Resume re-hashes data from the start when the
// checkpoint comes from another boot, when data is shorter than the
// checkpoint, or when no slot is valid. Then Commit compares the digest with
// the hash of exactly the bytes data holds, and an upload that lost bytes
// to a power loss fails with ErrDigestMismatch instead of publishing them.
// (Where the boot cannot be read, on systems other than Linux, checkpoints
// are trusted as if written in the running boot.)
//
// Large writes overlap hashing and writing: the caller's goroutine hashes a
// buffer while a second goroutine writes it to the file. Feeding a Writer
// from a reader (its ReadFrom, which io.Copy and blob.Copy use, and Put)
// runs a three-stage pipeline instead: one goroutine reads into four cycling
// 2 MiB buffers, the caller hashes them in order, another writes each one as
// soon as it is full, so a slow disk write does not stall the hash. Its
// checkpoints are saved after the bytes they cover are written, and a reader
// that ends early (io.ErrUnexpectedEOF) is an error, never a complete
// upload. On Linux the aligned
// part of a large write goes through a second descriptor opened with O_DIRECT
// (WithDirectIO, on by default): the bytes go from the caller's buffer to the
// disk without being copied into the page cache, which on a small machine
// costs as much CPU as hashing them, and nothing is left dirty for the fsync
// in Commit. Unaligned edges and small writes go through the page cache, and
// their ranges are handed to the kernel for writeback as the upload grows
// (sync_file_range). A file system that refuses O_DIRECT turns it off for
// that upload. So that a blob just pushed is still in the page cache for
// its first pull (a CI pipeline's deploy pulls exactly that blob), each
// direct run is read back as soon as it is written (WithReadBack, on by
// default): a goroutine of the upload's own, which the writes never wait
// for, asks the kernel to read each written range ahead (posix_fadvise
// WILLNEED), and the disk fills the pages by DMA, costing their allocation
// but no copy.
//
// Commit fsyncs data, renames it to blobs/<alg>/<xx>/<hex>, fsyncs that
// directory (and the parent of any directory it had to create) and removes
// the upload directory. A crash between the rename and the removal leaves an upload
// directory without data; it counts as finished (Resume and Abort report
// ErrNotFound, Uploads skips it) and Open removes it. If the digest already
// exists, Commit removes the upload and returns the existing blob's Info
// without writing anything. Concurrent commits of the same digest all
// succeed; each rename atomically replaces identical bytes.
//
// # Locks
//
// One Writer holds an upload at a time. Within a process, a Store keeps a set
// of held upload IDs. Across processes (and Stores), the holder keeps an
// exclusive flock(2) on the upload's data file; the kernel drops it when the
// holder closes the file or dies, so a crashed process never leaves a stale
// lock behind. Resume and Abort of a held upload return ErrConflict. After
// taking the lock, Resume checks that the path still names the file it
// locked, so it cannot adopt an upload that was just aborted or committed.
// On systems without flock only the in-process lock applies.
//
// # Faults
//
// Every change the store makes to its tree goes through one internal
// interface (fileSystem), which the tests replace to inject EIO and ENOSPC
// into file creation, writes, fsync, rename and directory sync. A failure
// returns an error that wraps both blob.ErrUnavailable and the system's
// error, so errors.Is(err, syscall.ENOSPC) works. What each leaves:
//
//   - Creating an upload or a Put's temporary file: nothing.
//   - A write (of data, or of a checkpoint): the Writer is spent, and its
//     data file is cut back to the bytes known written, so part of a write
//     that failed (short, or torn by an I/O error) never joins the upload.
//     Every later Write and Commit returns the error; Close keeps the
//     upload, and Resume continues it from Size with the digest of exactly
//     those bytes. A Put removes its temporary file.
//   - Commit's fsync of data: the upload is discarded (Resume reports
//     ErrNotFound) and the client must push the blob again. After a failed
//     fsync the kernel may have dropped the pages it could not write, and
//     reading them back would be answered from the page cache, so the
//     bytes on disk cannot be checked.
//   - The rename into blobs/: the upload stays whole; Commit may be called
//     again, or the Writer closed and the upload resumed later.
//   - The directory sync after the rename: the blob is visible, whole and
//     synced, but its name may not survive a crash. Commit returns the
//     error and ends the upload. The store remembers the directory and
//     syncs it again before any later Commit, Put or Delete reports
//     success, so a retried push of the same blob succeeds only once its
//     name is durable. A failed sync of a parent directory created for the
//     blob is handled alike, before the rename.
//
// In every case nothing partial becomes visible to Stat, ReaderAt or Walk,
// committed blobs stay whole, and the store works again once the fault
// clears; it never turns itself read-only.
//
// # Deletion and cleanup
//
// Delete unlinks the blob's file and fsyncs its directory, so a deleted
// blob does not reappear after a crash; if that sync fails, Delete returns
// the error (the blob is gone from view) and the directory is synced again
// before the next Commit, Put or Delete reports success. A ReaderAt holds
// an open descriptor, and on Unix an open file survives unlink, so a
// reader that opened the blob before Delete reads it whole. Open removes staging entries in tmp/ that
// were not modified for an hour (left by a crash) and finished upload
// directories; unfinished uploads stay until Abort, listed by Uploads with
// their age.
package fs
