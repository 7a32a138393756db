package memory_test

import (
	"testing"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/memory"
	"github.com/regkit/regkit/registry/meta/metatest"
)

func TestConformance(t *testing.T) {
	metatest.Run(t, func(*testing.T) meta.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	metatest.Benchmark(b, func(*testing.B) meta.Store { return memory.New() })
}
