package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/postgres"
)

func TestOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		opts []postgres.Option
	}{
		{"empty table", []postgres.Option{postgres.WithTable("")}},
		{"upper case", []postgres.Option{postgres.WithTable("Meta")}},
		{"leading digit", []postgres.Option{postgres.WithTable("1meta")}},
		{"quote", []postgres.Option{postgres.WithTable(`meta"; DROP TABLE x; --`)}},
		{"schema qualified", []postgres.Option{postgres.WithTable("public.meta")}},
		{"space", []postgres.Option{postgres.WithTable("regkit meta")}},
		{"non-ASCII", []postgres.Option{postgres.WithTable("métadonnées")}},
		{"too long", []postgres.Option{postgres.WithTable(strings.Repeat("m", 64))}},
		{"negative retries", []postgres.Option{postgres.WithMaxRetries(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Options are checked before any connection is made.
			_, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none", tt.opts...)
			if !errors.Is(err, meta.ErrInvalid) {
				t.Fatalf("Open = %v, want an error wrapping meta.ErrInvalid", err)
			}
		})
	}
	if _, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?pool_max_conns=many"); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Open with a bad connection string = %v, want an error wrapping meta.ErrInvalid", err)
	}
	if _, err := postgres.New(t.Context(), nil); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("New(nil pool) = %v, want an error wrapping meta.ErrInvalid", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), fmt.Sprintf("postgres://regkit@127.0.0.1:%d/postgres?connect_timeout=5", port))
	if !errors.Is(err, meta.ErrUnavailable) {
		t.Fatalf("Open of a port nothing listens on = %v, want an error wrapping meta.ErrUnavailable", err)
	}
}

func TestLongestTableName(t *testing.T) {
	name := "t" + strings.Repeat("_", 62)
	dropAtEnd(t, name)
	s := open(t, name)
	defer s.Close()
	if err := s.Update(t.Context(), func(tx meta.Tx) error { return tx.Put([]byte("k"), nil) }); err != nil {
		t.Fatal(err)
	}
}

// TestForeignTable checks that Open refuses a table of the same name with
// other column types rather than writing into it.
func TestForeignTable(t *testing.T) {
	table := uniqueTable(t)
	pool := hostPool(t, nil, 0)
	if _, err := pool.Exec(t.Context(), `CREATE TABLE "`+table+`" (k text PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.New(t.Context(), pool, postgres.WithTable(table))
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("New on a table of text columns = %v, want an error wrapping meta.ErrInvalid", err)
	}
}

// hostPool returns a pool of the test server's, as a host would make it,
// closed when tb ends. tracer, if not nil, sees every statement; maxConns,
// if not 0, caps the connections.
func hostPool(tb testing.TB, tracer pgx.QueryTracer, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(serverURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(tb.Context(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// TestHostPool checks that a Store made with New leaves the host's pool
// open when it closes, and that a Store on the same table sees its data.
func TestHostPool(t *testing.T) {
	table := uniqueTable(t)
	pool := hostPool(t, nil, 0)
	s, err := postgres.New(t.Context(), pool, postgres.WithTable(table))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Health(); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if err := s.Update(t.Context(), func(tx meta.Tx) error { return tx.Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(); !errors.Is(err, meta.ErrUnavailable) {
		t.Fatalf("Health after Close = %v, want an error wrapping meta.ErrUnavailable", err)
	}
	if err := pool.Ping(t.Context()); err != nil {
		t.Fatalf("the host's pool after Close: %v", err)
	}
	other := open(t, table)
	defer other.Close()
	if got := get(t, other, "k"); got != "v" {
		t.Fatalf("second store read %q, want v", got)
	}
}

// get reads key in a View of s and fails the test unless it is there.
func get(t *testing.T, s meta.Store, key string) string {
	t.Helper()
	var got string
	if err := s.View(t.Context(), func(tx meta.Tx) error {
		v, err := tx.Get([]byte(key))
		got = string(v)
		return err
	}); err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

// TestScanPages checks ranges that span several round trips of a Scan, in
// both directions, with keys that differ only by trailing zero bytes at
// the edges of a page (the next page starts after the last key plus 0x00).
func TestScanPages(t *testing.T) {
	s := open(t, uniqueTable(t))
	defer s.Close()
	var keys []string
	for i := range 700 {
		k := fmt.Sprintf("k%04d", i)
		keys = append(keys, k)
		if i%128 == 127 {
			keys = append(keys, k+"\x00", k+"\x00\x00", k+"\x00\x01")
		}
	}
	slices.Sort(keys)
	if err := s.Update(t.Context(), func(tx meta.Tx) error {
		for _, k := range keys {
			if err := tx.Put([]byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	between := func(start, end string) []string {
		var out []string
		for _, k := range keys {
			if (start == "" || k >= start) && (end == "" || k < end) {
				out = append(out, k)
			}
		}
		return out
	}
	tests := []struct {
		name       string
		start, end string
		stop       int // stop after this many keys; 0: never
	}{
		{"all", "", "", 0},
		{"from a key", keys[100], "", 0},
		{"to a key", "", keys[600], 0},
		{"between keys", "k0100\x00", "k0600\x00", 0},
		{"one page exactly", keys[10], keys[10+256], 0},
		{"stop inside the second page", "", "", 300},
		{"stop at a page edge", "", "", 256},
		{"empty", "k0200", "k0200", 0},
	}
	for _, tt := range tests {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", tt.name, reverse), func(t *testing.T) {
				want := between(tt.start, tt.end)
				if reverse {
					slices.Reverse(want)
				}
				if tt.stop > 0 {
					want = want[:tt.stop]
				}
				var got []string
				err := s.View(t.Context(), func(tx meta.Tx) error {
					return tx.Scan(meta.Range{Start: []byte(tt.start), End: []byte(tt.end), Reverse: reverse}, func(k, v []byte) bool {
						if string(v) != "v"+string(k) {
							t.Errorf("%q = %q", k, v)
						}
						got = append(got, string(k))
						return tt.stop == 0 || len(got) < tt.stop
					})
				})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("scanned %d keys %q...; want %d %q...", len(got), head(got), len(want), head(want))
				}
			})
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 3)] }

// countingTracer counts the round trips of a pool: batches and single
// statements.
type countingTracer struct{ trips atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.trips.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *countingTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.trips.Add(1)
	return ctx
}
func (c *countingTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *countingTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestRoundTrips pins down what the package documentation says
// transactions cost in round trips to the server (statements already
// prepared on the connection).
func TestRoundTrips(t *testing.T) {
	tracer := &countingTracer{}
	// One connection: every statement is prepared once, in the first run.
	pool := hostPool(t, tracer, 1)
	s, err := postgres.New(t.Context(), pool, postgres.WithTable(uniqueTable(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	many := func(tx meta.Tx) error {
		for i := range 1000 {
			if err := tx.Put(fmt.Appendf(nil, "k%04d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}
	errStop := errors.New("stop")
	tests := []struct {
		name     string
		writable bool
		fn       func(tx meta.Tx) error
		trips    int64
	}{
		{"Update of 1000 Puts", true, many, 1},
		{"Update of Puts and Deletes", true, func(tx meta.Tx) error {
			_ = tx.Delete([]byte("k0001"))
			return tx.Put([]byte("k0002"), []byte("w"))
		}, 1},
		{"Update of nothing", true, func(meta.Tx) error { return nil }, 0},
		{"Update reading its own write", true, func(tx meta.Tx) error {
			_ = tx.Put([]byte("x"), []byte("1"))
			_, err := tx.Get([]byte("x"))
			return err
		}, 1},
		{"Update of a Get and a Put", true, func(tx meta.Tx) error {
			if _, err := tx.Get([]byte("k0003")); err != nil {
				return err
			}
			return tx.Put([]byte("k0003"), []byte("w"))
		}, 2},
		{"Update failing after a Get", true, func(tx meta.Tx) error {
			_, _ = tx.Get([]byte("k0003"))
			return errStop
		}, 2},
		{"View of one Get", false, func(tx meta.Tx) error {
			_, err := tx.Get([]byte("k0004"))
			return err
		}, 2},
		{"View of three Gets", false, func(tx meta.Tx) error {
			for _, k := range []string{"k0005", "k0006", "k0007"} {
				if _, err := tx.Get([]byte(k)); err != nil {
					return err
				}
			}
			return nil
		}, 4},
		{"View of a Scan stopped early", false, func(tx meta.Tx) error {
			n := 0
			return tx.Scan(meta.Range{}, func(k, v []byte) bool { n++; return n < 10 })
		}, 2},
		{"View of a Scan of 1000 keys", false, func(tx meta.Tx) error {
			return tx.Scan(meta.Prefix([]byte("k")), func(k, v []byte) bool { return true })
		}, 1 + 4},
	}
	run := func(writable bool, fn func(meta.Tx) error) error {
		if writable {
			return s.Update(t.Context(), fn)
		}
		return s.View(t.Context(), fn)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A first run prepares the statements on the connection.
			if err := run(tt.writable, tt.fn); err != nil && !errors.Is(err, errStop) {
				t.Fatal(err)
			}
			before := tracer.trips.Load()
			if err := run(tt.writable, tt.fn); err != nil && !errors.Is(err, errStop) {
				t.Fatal(err)
			}
			if got := tracer.trips.Load() - before; got != tt.trips {
				t.Fatalf("%d round trips, want %d", got, tt.trips)
			}
		})
	}
}

// TestRoundTripKeys checks that the bytes a Tx returns stay intact while
// later round trips of the same transaction run.
func TestRoundTripKeys(t *testing.T) {
	s := open(t, uniqueTable(t))
	defer s.Close()
	if err := s.Update(t.Context(), func(tx meta.Tx) error {
		for i := range 600 {
			if err := tx.Put(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%04d", i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(t.Context(), func(tx meta.Tx) error {
		first, err := tx.Get([]byte("k0000"))
		if err != nil {
			return err
		}
		var kept [][]byte
		if err := tx.Scan(meta.Range{}, func(k, v []byte) bool {
			kept = append(kept, k, v)
			return true
		}); err != nil {
			return err
		}
		if string(first) != "v0000" {
			t.Errorf("a Get's value changed to %q", first)
		}
		for i := 0; i < len(kept); i += 2 {
			if want := fmt.Sprintf("k%04d", i/2); string(kept[i]) != want || !bytes.Equal(kept[i+1][1:], kept[i][1:]) {
				t.Fatalf("kept pair %d is %q=%q, want %s", i/2, kept[i], kept[i+1], want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
