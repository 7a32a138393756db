// Package bolt is the embedded, persistent [meta.Store]: the registry's
// metadata in one bbolt file (go.etcd.io/bbolt), a copy-on-write B+tree with
// serializable transactions, next to the blobs of blob/fs.
//
// # File layout
//
// The file holds two top-level buckets:
//
//	info   format = "regkit-meta 1"   the layout version, checked by Open
//	kv     key = value                 the flat key space of meta.Store,
//	                                   keys sorted bytewise, no nested buckets
//
// Open creates both in a new file, refuses a file with a different format
// (ErrUnsupported) and a bbolt file of another program (ErrInvalid). The
// registry owns the key layout inside kv; this package knows nothing of it.
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
// file's name is as durable as its contents. [WithNoSync] trades that guarantee for speed, for tests and
// benchmarks only.
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
// drops the layer and removes the covered segments. Writers wait only for
// the rotation; readers never wait. Close checkpoints what is left. Open
// replays, in one transaction, every segment past the applied mark; only the
// newest segment may end in a torn record (an append the crash cut short,
// never acknowledged), and a torn record in an older one makes Open fail
// with meta.ErrUnavailable rather than silently drop committed data.
// Segments are zero-filled and synced before use (the next one is prepared
// after each checkpoint), so an append's fdatasync has no size change to
// journal. If an append or a checkpoint fails, the store refuses writes
// (meta.ErrUnavailable) until it is reopened, which replays the log.
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
