package postgres

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regkit/regkit/registry/meta"
)

// scanBatch is how many rows one round trip of a Scan reads.
const scanBatch = 256

// rollbackTimeout bounds the ROLLBACK that ends a failed transaction. It
// runs even when the caller's context has ended, so that the connection
// can go back to the pool; past this, the connection is dropped instead.
const rollbackTimeout = 5 * time.Second

// statements is the SQL a Store sends, built once for its table.
type statements struct {
	create, probe       string
	beginRW, beginRO    string
	commit, rollback    string
	get, upsert, delete string
	scan                [2][2]string // [reverse][has an upper bound]

	// gateKey is the advisory lock of the table's writers (see gate).
	gateKey int64
}

// The writers' gate: every Update holds the table's advisory lock, shared,
// from its first statement to after its COMMIT, so a transaction that
// keeps losing to others can take it exclusively and run alone (see
// escalateAfter). They are session locks: they outlive COMMIT and ROLLBACK
// and are given back explicitly (or die with the connection). A shared
// lock rides in the first round trip; an exclusive one takes a round trip
// of its own before BEGIN, so that the transaction's snapshot is taken
// after every writer in flight has committed.
const (
	gateShared      = "SELECT pg_advisory_lock_shared($1)"
	gateExclusive   = "SELECT pg_advisory_lock($1)"
	ungateShared    = "SELECT pg_advisory_unlock_shared($1)"
	ungateExclusive = "SELECT pg_advisory_unlock($1)"
)

// gateKeyOf derives the advisory lock key of a table (FNV-1a of a name
// space and the table's name).
func gateKeyOf(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("regkit meta/postgres writers\x00" + table))
	return int64(h.Sum64())
}

func newStatements(table string) statements {
	t := `"` + table + `"` // checkIdentifier admits nothing that needs escaping
	scan := func(upper bool, order string) string {
		q := "SELECT k, v FROM " + t + " WHERE k >= $1"
		if upper {
			q += " AND k < $2"
		}
		return fmt.Sprintf("%s ORDER BY k %s LIMIT %d", q, order, scanBatch)
	}
	return statements{
		create:   "CREATE TABLE IF NOT EXISTS " + t + " (k bytea PRIMARY KEY, v bytea NOT NULL)",
		probe:    "SELECT k, v FROM " + t + " WHERE false",
		beginRW:  "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE",
		beginRO:  "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		commit:   "COMMIT",
		rollback: "ROLLBACK",
		get:      "SELECT v FROM " + t + " WHERE k = $1",
		upsert: "INSERT INTO " + t + " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])" +
			" ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
		delete:  "DELETE FROM " + t + " WHERE k = ANY($1::bytea[])",
		gateKey: gateKeyOf(table),
		scan: [2][2]string{
			{scan(false, "ASC"), scan(true, "ASC")},
			{scan(false, "DESC"), scan(true, "DESC")},
		},
	}
}

// pendingWrite is a Put (val, never nil) or a Delete not yet sent.
type pendingWrite struct {
	val []byte
	del bool
}

// tx is one attempt of a View or an Update. It takes a pooled connection
// at its first round trip and sends BEGIN with it. Writes wait in pending,
// the last one per key, and go to the server in two statements (one
// DELETE, one upsert) ahead of the next Scan or with the COMMIT; a Get of a
// pending key is answered from pending.
type tx struct {
	s *Store
	// ctx is the context of the View or Update call that runs this
	// transaction. meta.Tx methods take no context; a tx lives only while
	// that call's fn runs (it is invalid after), so holding the call's
	// context here cannot make it outlive the call.
	ctx      context.Context
	writable bool
	// exclusive: this attempt takes the writers' gate exclusively.
	exclusive bool
	// gated: the connection holds the writers' gate (shared or exclusive)
	// and must give it back before it returns to the pool.
	gated bool

	conn      *pgxpool.Conn // nil until the first round trip
	begun     bool          // BEGIN has been sent
	committed bool
	pending   map[string]pendingWrite

	// broken is the first failed round trip, classified; every later call
	// returns it. brokenCause is the driver's error.
	broken, brokenCause error

	scanning int  // Scan calls in progress; writes are refused meanwhile
	done     bool // fn has returned
}

// Get returns the value under key: from pending when the transaction wrote
// it, else in one round trip (which also carries BEGIN if this is the
// first).
func (t *tx) Get(key []byte) ([]byte, error) {
	if err := t.check("get", key, false); err != nil {
		return nil, err
	}
	if w, ok := t.pending[string(key)]; ok {
		if w.del {
			return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
		}
		return w.val, nil
	}
	b, lead := t.batch()
	b.Queue(t.s.sql.get, key)
	var vals [][]byte
	if err := t.roundTrip("get", b, lead, func(br pgx.BatchResults) (err error) {
		vals, err = readRows(br, 1, 1)
		return err
	}); err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, meta.NewKeyError(backend, "get", key, "", meta.ErrNotFound)
	}
	return vals[0], nil
}

// Put records a copy of value under key; it reaches the server with the
// next Scan or the commit.
func (t *tx) Put(key, value []byte) error {
	if err := t.check("put", key, true); err != nil {
		return err
	}
	v := make([]byte, len(value)) // never nil: nil would be SQL NULL
	copy(v, value)
	t.write(key, pendingWrite{val: v})
	return nil
}

// Delete records the removal of key; it reaches the server with the next
// Scan or the commit.
func (t *tx) Delete(key []byte) error {
	if err := t.check("delete", key, true); err != nil {
		return err
	}
	t.write(key, pendingWrite{del: true})
	return nil
}

func (t *tx) write(key []byte, w pendingWrite) {
	if t.pending == nil {
		t.pending = make(map[string]pendingWrite)
	}
	t.pending[string(key)] = w
}

// Scan reads r in pages of scanBatch rows, ordered by k, each page one
// round trip that starts after the last key of the one before; it stops
// reading when fn returns false. Pending writes go ahead of the first page.
func (t *tx) Scan(r meta.Range, fn func(key, value []byte) bool) error {
	if t.done {
		return meta.NewKeyError(backend, "scan", nil, "transaction has ended", meta.ErrInvalid)
	}
	if fn == nil {
		return meta.NewKeyError(backend, "scan", nil, "nil function", meta.ErrInvalid)
	}
	if len(r.Start) > 0 && len(r.End) > 0 && bytes.Compare(r.Start, r.End) >= 0 {
		return nil
	}
	t.scanning++
	defer func() { t.scanning-- }()
	// lower is inclusive and never nil (nil would be SQL NULL); the empty
	// bytea sorts first. upper is exclusive; empty means none.
	lower := []byte{}
	if len(r.Start) > 0 {
		lower = r.Start
	}
	upper := r.End
	rev := 0
	if r.Reverse {
		rev = 1
	}
	for {
		b, lead := t.batch()
		if len(upper) > 0 {
			b.Queue(t.s.sql.scan[rev][1], lower, upper)
		} else {
			b.Queue(t.s.sql.scan[rev][0], lower)
		}
		var kvs [][]byte
		if err := t.roundTrip("scan", b, lead, func(br pgx.BatchResults) (err error) {
			kvs, err = readRows(br, 2, scanBatch)
			return err
		}); err != nil {
			return err
		}
		for i := 0; i < len(kvs); i += 2 {
			if !fn(kvs[i], kvs[i+1]) {
				return nil
			}
		}
		if len(kvs) < 2*scanBatch {
			return nil
		}
		last := kvs[len(kvs)-2]
		if r.Reverse {
			upper = last
		} else {
			// The smallest key above last is last followed by a zero byte.
			lower = append(slices.Clip(bytes.Clone(last)), 0)
		}
	}
}

// batch starts the next round trip's batch with what must go first: BEGIN
// if it has not been sent, then the pending writes. lead counts those
// statements.
func (t *tx) batch() (b *pgx.Batch, lead int) {
	b = &pgx.Batch{}
	if !t.begun {
		if t.writable {
			b.Queue(t.s.sql.beginRW)
			if !t.exclusive {
				// In the transaction's first statement: a shared request
				// waits only behind an exclusive holder, whose commit the
				// snapshot then misses (a conflict and a retry at worst).
				b.Queue(gateShared, t.s.sql.gateKey)
				t.gated = true // held once the round trip succeeds; end checks
			}
		} else {
			b.Queue(t.s.sql.beginRO)
		}
		t.begun = true
	}
	if len(t.pending) == 0 {
		return b, b.Len()
	}
	// Keys in order: concurrent transactions then lock rows in one order,
	// which makes deadlocks between them rarer.
	keys := make([]string, 0, len(t.pending))
	for k := range t.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var putKeys, putVals, delKeys [][]byte
	for _, k := range keys {
		if w := t.pending[k]; w.del {
			delKeys = append(delKeys, []byte(k))
		} else {
			putKeys = append(putKeys, []byte(k))
			putVals = append(putVals, w.val)
		}
	}
	if len(delKeys) > 0 {
		b.Queue(t.s.sql.delete, delKeys)
	}
	if len(putKeys) > 0 {
		b.Queue(t.s.sql.upsert, putKeys, putVals)
	}
	t.pending = nil
	return b, b.Len()
}

// roundTrip sends b, reads the results of its first lead statements, then
// hands the rest to read (if not nil). A failure breaks the transaction.
func (t *tx) roundTrip(op string, b *pgx.Batch, lead int, read func(pgx.BatchResults) error) error {
	if t.broken != nil {
		return t.broken
	}
	if t.conn == nil {
		c, err := t.s.pool.Acquire(t.ctx)
		if err != nil {
			return t.fail(op, err)
		}
		t.conn = c
		if t.writable && t.exclusive {
			// One round trip of its own, before BEGIN: the snapshot is then
			// taken after every other writer has finished.
			t.gated = true
			if _, err := t.conn.Exec(t.ctx, gateExclusive, t.s.sql.gateKey); err != nil {
				return t.fail(op, err)
			}
		}
	}
	br := t.conn.SendBatch(t.ctx, b)
	var err error
	for i := 0; i < lead && err == nil; i++ {
		_, err = br.Exec()
	}
	if err == nil && read != nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail(op, err)
	}
	return nil
}

// fail breaks the transaction with cause and returns the classified error.
func (t *tx) fail(op string, cause error) error {
	t.brokenCause = cause
	t.broken = t.s.classify(t.ctx, op, cause)
	return t.broken
}

// commit sends the pending writes and COMMIT in one round trip. A
// transaction that sent nothing and has nothing pending costs none.
func (t *tx) commit() error {
	if !t.begun && len(t.pending) == 0 {
		return nil
	}
	b, lead := t.batch()
	b.Queue(t.s.sql.commit)
	gated := t.gated
	if gated {
		b.Queue(t.ungate(), t.s.sql.gateKey)
	}
	err := t.roundTrip("commit", b, lead, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("server ended the transaction with %s", tag)
		}
		if err == nil && gated {
			if _, err := br.Exec(); err == nil {
				t.gated = false
			}
		}
		return err
	})
	t.committed = err == nil
	return err
}

// ungate is the statement that gives the writers' gate back.
func (t *tx) ungate() string {
	if t.exclusive {
		return ungateExclusive
	}
	return ungateShared
}

// end marks the transaction over, rolls it back unless it committed, and
// releases its connection. A connection still in a transaction (the
// ROLLBACK failed) or broken is dropped by the pool rather than reused.
func (t *tx) end() {
	t.done = true
	if t.conn == nil {
		return
	}
	pc := t.conn.Conn().PgConn()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), rollbackTimeout)
	defer cancel()
	// ROLLBACK (unless the transaction ended) and the gate's release go in
	// one round trip. The session lock outlives the transaction: unless the
	// server confirms its release, the connection is closed (which frees
	// it) rather than pooled holding it. (A lock request that never got its
	// answer is handled the same way: unlocking a lock not held answers
	// false.)
	b := &pgx.Batch{}
	rollback := !t.committed && !pc.IsClosed() && pc.TxStatus() != 'I'
	if rollback {
		b.Queue(t.s.sql.rollback)
	}
	if t.gated && !pc.IsClosed() {
		b.Queue(t.ungate(), t.s.sql.gateKey)
	}
	if b.Len() > 0 {
		br := t.conn.SendBatch(ctx, b)
		if rollback {
			_, _ = br.Exec()
		}
		if t.gated {
			var released bool
			if err := br.QueryRow().Scan(&released); err != nil || !released {
				_ = br.Close()
				_ = pc.Close(ctx)
			}
		}
		_ = br.Close()
	}
	t.conn.Release()
	t.conn = nil
}

// check validates a call on key.
func (t *tx) check(op string, key []byte, write bool) error {
	st := meta.TxState{Done: t.done, Writable: t.writable, Scanning: t.scanning > 0}
	return meta.CheckCall(backend, op, key, st, write)
}

// readRows reads the next result of br, at most maxRows rows of cols
// bytea columns, and returns the values row by row. Values are copied into
// chunks that are never reallocated, so each returned slice stays intact;
// its capacity is clipped to its length.
func readRows(br pgx.BatchResults, cols, maxRows int) ([][]byte, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	binary := len(rows.FieldDescriptions()) == cols
	for _, f := range rows.FieldDescriptions() {
		binary = binary && f.Format == pgx.BinaryFormatCode
	}
	var (
		out     = make([][]byte, 0, cols*maxRows)
		chunk   []byte
		scratch [][]byte // for a result in text format (the simple protocol)
		dst     []any
	)
	for rows.Next() {
		vals := rows.RawValues()
		if !binary {
			if dst == nil {
				scratch = make([][]byte, cols)
				dst = make([]any, cols)
				for i := range dst {
					dst[i] = &scratch[i]
				}
			}
			if err := rows.Scan(dst...); err != nil {
				return nil, err
			}
			vals = scratch
		}
		for _, v := range vals {
			if len(v) > cap(chunk)-len(chunk) {
				size := min(max(2*cap(chunk), minChunk), maxChunk)
				if len(v) > size {
					out = append(out, bytes.Clone(v))
					continue
				}
				chunk = make([]byte, 0, size)
			}
			n := len(chunk)
			chunk = append(chunk, v...)
			out = append(out, chunk[n:len(chunk):len(chunk)])
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// The chunks readRows copies values into grow from minChunk to maxChunk
// bytes; a larger value gets an allocation of its own.
const (
	minChunk = 512
	maxChunk = 32 << 10
)
