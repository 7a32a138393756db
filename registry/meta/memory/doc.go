// Package memory is an in-memory [meta.Store]: the metadata store for tests,
// harnesses and registries that need no persistence.
//
// # Design
//
// The keys live in a B-tree ordered bytewise, so Get and the seek that
// starts a Scan cost O(log n) and a Scan then walks keys in order; a page of
// 100 tags among 100k keys is a seek and a hundred steps.
//
// The tree is persistent (immutable once published). A write transaction
// copies the nodes on the paths it changes and links the copies into a new
// root; readers never see the copies until Update publishes the root with
// one atomic store. This gives, with little code:
//
//   - lock-free reads: View loads the current root and reads a snapshot that
//     no writer will change, so reads never wait for a long Update and an
//     Update never waits for readers;
//   - atomic commit and free rollback: an Update whose function fails (or
//     panics) just drops its private copies;
//   - read-your-writes inside an Update, Scan included: the transaction reads
//     the tree it is building.
//
// Write transactions run one at a time (a single writer slot), which makes
// them serializable and conflict-free: fn runs exactly once. A transaction
// copies each node at most once, so a write costs O(log n) node copies the
// first time a path is touched and an in-place change after that.
//
// A single RWMutex over a mutable tree would be simpler but would stall every
// reader while an Update runs, and would need an undo log for rollback.
//
// # Limits
//
// Values returned by Get and Scan are shared with the store and must not be
// modified. They stay intact after the transaction, which is more than the
// [meta.Tx] contract promises: portable callers copy them. A write inside a
// Scan callback fails with meta.ErrInvalid. Calling Update from inside an
// Update's function deadlocks; View inside either works but sees the last
// committed state, not the enclosing transaction's writes.
package memory
