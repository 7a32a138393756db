// Package postgres is a [meta.Store] in PostgreSQL: the registry's metadata
// in one table that several registry frontends, in any number of
// processes, share. It is a nested Go module (its own go.mod), so the core
// module does not depend on the driver, github.com/jackc/pgx/v5 (pgxpool).
//
// [Open] makes a Store with its own connection pool from a connection
// string; [New] runs it on a pool the host already has. Both create the
// table when it is missing.
//
// # Table
//
//	CREATE TABLE regkit_meta (k bytea PRIMARY KEY, v bytea NOT NULL)
//
// One row per key; the registry owns the key layout, as with every
// backend. bytea compares bytewise (a shorter key that is a prefix of a
// longer one sorts first), which is meta.Store's order, so Scan is an
// ORDER BY over the primary key's B-tree and needs no other index. The
// table name ([WithTable], default regkit_meta) is checked against a strict
// rule (lowercase letters, digits, underscore) and quoted; one table is one
// registry's metadata. Open refuses a table of that name whose k and v are
// not bytea. Keys are at most meta.MaxKeySize (1 KiB), well under the
// B-tree's limit of about 2.7 KB per index entry.
//
// # Isolation and retries
//
// Update runs a SERIALIZABLE READ WRITE transaction: PostgreSQL's
// serializable snapshot isolation aborts one of two transactions whose
// reads and writes could not have run one after the other, with SQLSTATE
// 40001 (serialization failure), at a statement or at COMMIT; two
// transactions that wait for each other's row locks end in 40P01
// (deadlock). Either way the transaction has written nothing, and Update
// runs fn again on a new one, after a random pause that doubles its limit
// each time (1 ms to 128 ms), up to [WithMaxRetries] times (default 10).
// Then it gives up with an error wrapping meta.ErrConflict and the last
// failure.
//
// Retries alone can starve a transaction that keeps meeting others on hot
// keys (a blob's reference count, which every push of a shared layer
// changes). So every Update holds the table's writers' gate, an advisory
// lock taken shared in its first round trip and given back after COMMIT;
// an Update that has lost three times takes the gate exclusively, in a
// round trip of its own before BEGIN, waits for the writers in flight, and
// runs alone with a snapshot taken after them: it cannot lose again. The
// shared gate costs no round trip; Views take none. fn must therefore have no effect outside the transaction, as
// meta.Store already requires. A round trip that fails in any other way
// (the connection broke, the server refused or failed the statement) ends
// the transaction with an error wrapping meta.ErrUnavailable and the
// driver's error; a context that ends, with the context's error. After a
// failure every later call in the same transaction returns the same error,
// and nothing commits whatever fn returns.
//
// View runs a REPEATABLE READ READ ONLY transaction: every read sees the
// snapshot of its first statement, which is what a View promises; a
// read-only transaction at that level never fails to serialize, so View
// runs fn once. (A serializable read-only transaction could be aborted, or
// would need DEFERRABLE, which may wait for a safe snapshot.)
//
// # Round trips
//
// A transaction takes a connection from the pool at its first round trip,
// and BEGIN travels in that first batch. Put and Delete send nothing: the
// last write per key waits in the transaction, and all of them go to the
// server as two statements (a DELETE of an array of keys and an
// INSERT ... ON CONFLICT DO UPDATE over unnest of two arrays), keys in
// order so that concurrent writers lock rows in one order, in the same
// pipelined batch as the next Scan or as the COMMIT. A Get of a key the
// transaction wrote is answered without the server; any other Get is one
// round trip. Statements are prepared once per connection by pgx's
// statement cache. So:
//
//	Update of writes only (any number)        1 round trip
//	Update of r Gets, then writes             r + 1
//	View of r Gets                            r + 1 (the COMMIT)
//	Scan of n keys                            ceil(n/256) pages; one if it stops in the first
//	Update or View that reads and writes nothing   0
//	failed Update after r reads               r + 1 (the ROLLBACK)
//
// A Scan reads pages of 256 rows (LIMIT 256); the next page starts after
// the last key of the one before (k >= last||0x00 ascending, k < last
// descending), so a Scan that stops early has read at most one page more
// than it used, and the bytes of every page stay valid until fn returns.
//
// In the registry, whose operations read a few keys one after another, an
// operation costs about one round trip per key read plus one per
// transaction. Measured with this package's tests on regkit's registry
// (blobs in memory, statements prepared): a pull of a manifest by tag is
// one View of 4 Gets, 5 round trips; by digest, 4; a blob Stat, 3; a tag
// listing, 2; pushing a manifest with a tag (already stored), one Update
// of 3 Gets, 4; a tag Set, 4; an untag, 5; deleting a manifest, 13 across
// its transactions. Over a network each round trip adds its latency, so
// a frontend belongs near its database.
//
// # Concurrency and Close
//
// Stores on the same table see one key space: what one commits, the
// others' next transactions read. Close makes new transactions fail with
// an error wrapping meta.ErrUnavailable, waits for running ones, then
// closes the pool if Open made it. Every Update that returned nil was
// committed by the server (durable as the server's settings make it:
// synchronous_commit, replication). [Store.Health] pings the server.
//
// A Tx keeps the context of its View or Update call, since meta.Tx methods
// take none; the Tx lives only while fn runs. A context that ends during a
// round trip makes pgx close that connection, which the pool then drops.
//
// # Limits and what is left
//
//   - Reads are one round trip each: the registry reads keys one after
//     another. A multi-key Get in meta.Tx would let a pull by tag cost two
//     round trips instead of five.
//   - Frontends that share one table open their Registry with
//     registry.WithSharedStore: its manifest cache is then off (it is
//     invalidated only by its own frontend's commits) and the settings it
//     holds in memory are reread periodically; the access model's Reload
//     does the same for tokens and scope maps.
//   - A transaction's pending writes are held in memory until they are
//     sent; a single Update writing very many bytes sends them in one
//     batch.
//   - The table has no schema version of its own; the registry records
//     its layout version in the key space.
//   - Tested on PostgreSQL 15, connected directly, with pgx's default query
//     mode (statements prepared and cached per connection). Behind a
//     transaction-pooling proxy the prepared statements need the proxy's
//     support for them; that is untested.
//   - Blobs are not in PostgreSQL: frontends need a shared blob.Storage
//     (object storage), which is not in this package.
package postgres
