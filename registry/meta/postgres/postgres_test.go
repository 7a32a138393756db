package postgres_test

import (
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/metatest"
	"github.com/regkit/regkit/registry/meta/postgres"
)

func TestConformance(t *testing.T) {
	metatest.RunPersistent(t, func(t *testing.T, dir string) meta.Store { return open(t, tableFor(t, dir)) })
}

func BenchmarkStore(b *testing.B) {
	metatest.Benchmark(b, func(b *testing.B) meta.Store { return open(b, uniqueTable(b)) })
}

// open opens a Store on table of the test server or fails the test.
func open(tb testing.TB, table string, opts ...postgres.Option) *postgres.Store {
	tb.Helper()
	url := serverURL(tb)
	s, err := postgres.Open(tb.Context(), url, append([]postgres.Option{postgres.WithTable(table)}, opts...)...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}
