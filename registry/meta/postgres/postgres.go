package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regkit/regkit/registry/meta"
)

// backend prefixes this store's error messages.
const backend = "meta/postgres"

var (
	_ meta.Store          = (*Store)(nil)
	_ meta.HealthReporter = (*Store)(nil)
)

// Store is a [meta.Store] in one PostgreSQL table. Several Stores, in one
// process or many, may share a table: they see one key space, and their
// Updates are serializable with respect to each other. A Store is safe for
// concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	owned bool // Close closes pool: Open made it
	cfg   config
	sql   statements

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup // transactions in progress; Add only under mu while !closed

	closeOnce sync.Once
}

// Open connects to the PostgreSQL server that connString names (a URL or
// key=value string, as pgxpool.ParseConfig reads it; pool_max_conns and the
// other pool settings go there too), creates the table if it is missing,
// and returns a Store with its own connection pool, which Close closes. A
// connString that does not parse fails with an error wrapping
// meta.ErrInvalid; a server that cannot be reached, with one wrapping
// meta.ErrUnavailable.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	c, err := configure(opts)
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// The parser's message may quote the password: keep only the class.
		return nil, fmt.Errorf("%s: open: connection string does not parse: %w", backend, meta.ErrInvalid)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w: %w", backend, meta.ErrUnavailable, err)
	}
	s, err := newStore(ctx, pool, true, c)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store that runs its transactions on pool, a pool the host
// owns and may share with other work; it creates the table if it is
// missing. Close does not close pool. The Store uses pool's default query
// mode, whose statement cache makes each statement a single message after
// its first use on a connection.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%s: New needs a pool: %w", backend, meta.ErrInvalid)
	}
	c, err := configure(opts)
	if err != nil {
		return nil, err
	}
	return newStore(ctx, pool, false, c)
}

// configure applies opts to the defaults and validates the result.
func configure(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c, c.validate()
}

func newStore(ctx context.Context, pool *pgxpool.Pool, owned bool, c config) (*Store, error) {
	s := &Store{pool: pool, owned: owned, cfg: c, sql: newStatements(c.table)}
	if err := s.createTable(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// createTable creates the table unless it exists, then checks that its k
// and v columns are bytea.
func (s *Store) createTable(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		_, err := s.pool.Exec(ctx, s.sql.create)
		if err == nil {
			break
		}
		// Two Stores creating the same table at once: one of them loses a
		// race in the catalog (unique_violation or duplicate_table) even
		// with IF NOT EXISTS. The table is there now; look again.
		if code := sqlState(err); attempt == 0 && (code == "23505" || code == "42P07") {
			continue
		}
		return s.classify(ctx, "create table", err)
	}
	rows, err := s.pool.Query(ctx, s.sql.probe)
	if err != nil {
		return s.classify(ctx, "check table", err)
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.classify(ctx, "check table", err)
	}
	const byteaOID = 17
	if len(fields) != 2 || fields[0].DataTypeOID != byteaOID || fields[1].DataTypeOID != byteaOID {
		return fmt.Errorf("%s: table %q exists and its k and v columns are not both bytea: %w", backend, s.cfg.table, meta.ErrInvalid)
	}
	return nil
}

// View runs fn in a REPEATABLE READ, READ ONLY transaction: every read sees
// the snapshot taken at its first read. Read-only transactions never fail
// to serialize, so fn runs once.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a SERIALIZABLE read-write transaction and commits it
// when fn returns nil. When PostgreSQL aborts the transaction with a
// serialization failure or a deadlock, Update waits a short random time and
// runs fn again on a new transaction, up to [WithMaxRetries] times, then
// fails with an error wrapping meta.ErrConflict and the last failure. A
// context that ends stops it at the next round trip or wait.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	return s.run(ctx, true, fn)
}

// run runs fn until an attempt ends other than by losing a conflict.
func (s *Store) run(ctx context.Context, writable bool, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", backend, err)
	}
	if fn == nil {
		return fmt.Errorf("%s: nil function: %w", backend, meta.ErrInvalid)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.running.Done()
	for attempt := 0; ; attempt++ {
		// After escalateAfter lost attempts an Update runs alone: it waits
		// for the writers in flight and holds new ones back, so hot keys
		// cannot starve it.
		retry, err := s.attempt(ctx, writable, writable && attempt >= escalateAfter, fn)
		if !retry {
			return err
		}
		if attempt >= s.cfg.maxRetries {
			return fmt.Errorf("%s: gave up after %d attempts lost to concurrent transactions: %w: %w",
				backend, attempt+1, meta.ErrConflict, err)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return err
		}
		if s.isClosed() {
			return errClosed()
		}
	}
}

// attempt runs fn once on a new transaction and ends it. retry reports that
// PostgreSQL aborted the transaction to keep it serializable (err is that
// failure); fn may run again.
func (s *Store) attempt(ctx context.Context, writable bool, exclusive bool, fn func(meta.Tx) error) (retry bool, err error) {
	t := &tx{s: s, ctx: ctx, writable: writable, exclusive: exclusive}
	// The deferred end also runs when fn panics: the transaction is rolled
	// back and its connection released before the panic goes on.
	defer t.end()
	fnErr := fn(t)
	t.done = true
	if t.broken != nil {
		// A round trip failed; whatever fn made of the error, the
		// transaction is aborted and commits nothing.
		if isRetryable(t.brokenCause) {
			return true, t.broken
		}
		if fnErr != nil {
			return false, fnErr
		}
		return false, t.broken
	}
	if fnErr != nil {
		return false, fnErr
	}
	if err := t.commit(); err != nil {
		return isRetryable(t.brokenCause), err
	}
	return false, nil
}

// escalateAfter is how many attempts an Update may lose to concurrent
// transactions before it takes the writers' gate exclusively.
const escalateAfter = 3

// backoff waits before retry attempt+1: a random time up to a limit that
// doubles with each attempt, from 1 ms to 128 ms, so transactions that
// collided do not collide again in step.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 7)
	timer := time.NewTimer(rand.N(limit) + time.Millisecond/2)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting to retry: %w", backend, ctx.Err())
	}
}

// enter registers a transaction, or fails once Close has begun.
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	s.running.Add(1)
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func errClosed() error {
	return fmt.Errorf("%s: store is closed: %w", backend, meta.ErrUnavailable)
}

// healthTimeout bounds the round trip Health makes.
const healthTimeout = 5 * time.Second

// Health reports the store's state (meta.HealthReporter): once Close has
// begun, an error wrapping meta.ErrUnavailable that says it is closed;
// otherwise it takes a connection from the pool and pings the server,
// waiting at most 5 seconds, and returns an error wrapping
// meta.ErrUnavailable and the cause when that fails.
func (s *Store) Health() error {
	if s.isClosed() {
		return errClosed()
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%s: health: server unreachable: %w: %w", backend, meta.ErrUnavailable, err)
	}
	return nil
}

// Close makes new transactions fail with an error wrapping
// meta.ErrUnavailable, waits for the running ones to end, and closes the
// connection pool if [Open] made it (a pool passed to [New] stays open).
// Every Update that returned nil was committed by the server before it
// returned. Close is idempotent and safe to call concurrently: later calls
// wait for the first.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.running.Wait()
		if s.owned {
			s.pool.Close()
		}
	})
	return nil
}

// isRetryable reports a failure after which the transaction may succeed if
// run again: a serialization failure or a detected deadlock.
func isRetryable(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// classify wraps a failed round trip in meta's classes: the context's own
// error when ctx has ended, ErrConflict for a serialization failure or a
// deadlock, and ErrUnavailable for everything else (the server could not be
// reached, refused, or failed the statement).
func (s *Store) classify(ctx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w: %w", backend, op, ctx.Err(), err)
	case isRetryable(err):
		return fmt.Errorf("%s: %s: lost to a concurrent transaction: %w: %w", backend, op, meta.ErrConflict, err)
	default:
		return fmt.Errorf("%s: %s: %w: %w", backend, op, meta.ErrUnavailable, err)
	}
}
