// Package bolt is the embedded, persistent [meta.Store]: the registry's
// metadata in one bbolt file (go.etcd.io/bbolt), a copy-on-write B+tree with
// serializable transactions, next to the blobs of blob/fs.
//
// # File layout
//
// The file holds two top-level buckets:
//
//	info   format = "regkit-meta 1"   the layout version, checked by Open
//	       id = 16 random bytes       the database's identity (see below)
//	       wal-applied = seq          the last log segment in kv (WithLog)
//	kv     key = value                 the flat key space of meta.Store,
//	                                   keys sorted bytewise, no nested buckets
//
// Open creates both in a new file, refuses a file with a different format
// (ErrUnsupported) and a bbolt file of another program (ErrInvalid), and
// gives a file without an identity (written before identities existed)
// one. The registry owns the key layout inside kv; this package knows
// nothing of it.
//
// # Durability and concurrency
//
// View maps to a bbolt read transaction and Update to a read-write one. Write
// transactions run one at a time, so fn runs once and never conflicts; reads
// run concurrently with each other and with the writer, each on the snapshot
// of its start. A committed Update is on disk when Update returns: bbolt
// writes the changed pages, fsyncs, then writes and fsyncs the meta page that
// makes them current, so a crash at any instant leaves the last committed
// state. When Open creates the file it also syncs the directory, so the new
// file's name is as durable as its contents. [WithNoSync] trades that
// guarantee for speed, for tests and benchmarks only.
//
// bbolt maps the file into memory and maps it again, larger, when the file
// outgrows the map; a remap waits for every running read transaction and
// holds up every new one. [WithInitialMmapSize] (1 GiB of address space by
// default on 64-bit systems other than Windows) makes the first map large
// enough that a growing file does not remap until then.
//
// # Write-ahead log
//
// With [WithLog] (which registry.Open uses), an Update does not commit a
// bbolt transaction. It runs fn against an in-memory layer (a
// registry/meta/memory store) over a bbolt read snapshot, appends the
// transaction's puts and deletes as one checksummed record to the current
// log segment ("<path>.wal.<n>") with one pwrite, waits for one fdatasync,
// and only then makes the layer's new version visible: nothing a reader
// sees can be lost by a crash. Deletes are tombstones in the layer. Reads
// look in the active layer, then in the layer being checkpointed, then in
// the file; scans merge the three.
//
// When a segment passes [WithCheckpointBytes], the next Update wakes a
// checkpointer: it starts a new segment, freezes the active layer, applies it
// to the file in one ordinary (durable) bbolt transaction that also records
// the last segment it covers under "wal-applied" in the info bucket, then
// drops the layer and removes the covered segments. Writers wait for the
// rotation, and, once the new active layer holds [WithMaxPendingBytes] of
// records, for the checkpoint's end (backpressure: memory does not grow
// with write rate times checkpoint time); readers never wait. Segments are
// zero-filled and synced before use (the next one is prepared at Open and
// after each checkpoint), so an append's fdatasync has no size change to
// journal.
//
// Close first makes new Updates fail (meta.ErrUnavailable), waits for the
// running Update and checkpoint, then applies the active layer to the file
// without starting a new segment and removes the segments: every Update
// that returned nil is in the file. If that last checkpoint fails, Close
// returns the error and leaves the segments for the next Open.
//
// Open replays, in one transaction, every segment past the applied mark,
// with or without WithLog, and removes them; without WithLog the store then
// runs on the file alone. Only the newest segment may end in a torn record
// (an append the crash cut short, never acknowledged); a torn record in an
// older one makes Open fail with meta.ErrUnavailable rather than silently
// drop committed data.
//
// # Identity
//
// Each segment starts with a header holding the database's id (from the
// info bucket) and its own sequence number. Open checks every segment
// before replaying any, and refuses (meta.ErrInvalid, nothing replayed,
// nothing removed) segments of another database (left beside a new or
// replaced file) and unapplied segments that do not follow the applied
// mark without a gap (a file older than its log, such as a restored
// backup). Move such segments away to open the file. Segments without a
// header (an earlier, never released format) are refused with
// errdef.ErrUnsupported, not read.
//
// # Failures: read-only mode
//
// When a log append (its write or its fdatasync), a segment rotation (the
// rename or the directory sync), a checkpoint, or, without the log, a
// bbolt commit fails, the store turns read-only until it is reopened:
// Update fails with an error wrapping meta.ErrUnavailable and the cause
// (errors.Is(err, syscall.ENOSPC) holds), View keeps working and sees every
// acknowledged Update, [Store.Health] returns that error, and the failure
// is logged ([WithLogger]). The store stays read-only when the fault
// clears, by design: after a failed flush the kernel may have dropped the
// data it could not write, so only a reopen, which replays the log, knows
// what is on disk. A spare segment that cannot be prepared is logged and
// retried at the next rotation; it does not make the store read-only.
//
// What a failed Update may leave: an Update whose fn returned an error, or
// that failed before its append, leaves nothing. One whose append failed is
// rolled back in memory, so no reader ever sees it; on disk its record may
// be written, whole or in part, so the store erases it (zeros over its
// header, flushed) and says so in the error. If even the erase fails, the
// error says the record could not be erased: the next Open may then commit
// that Update, whole (a record is checksummed, so never in part), unless
// Close's checkpoint succeeded first, which covers and removes the segment.
// Without the log, a bbolt commit whose final flush failed may likewise be
// committed, whole, after a restart.
//
// The trade: a commit costs one small write and one flush instead of
// bbolt's page writes and two flushes, and the changes of the last
// checkpoint interval are held in memory twice (layer and log).
//
// The freelist is not written on commit (it is rebuilt by scanning when the
// file is opened after a crash) and is kept in a hash map, as etcd does:
// both make commits cheaper and neither weakens durability.
//
// # Limits
//
// Slices returned by Get and Scan point into the memory-mapped file: they are
// valid only until the transaction ends and must never be modified (the map
// is read-only; writing faults). A write inside a Scan callback fails with
// meta.ErrInvalid. A transaction's fn must not start another transaction on
// the same Store, nor Close it: bbolt may deadlock when it grows the map.
// The file is locked while open; a second Open of the same file, in this or
// another process, waits [WithTimeout] and then fails with
// meta.ErrUnavailable.
package bolt
