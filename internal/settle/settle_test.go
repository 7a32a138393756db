package settle_test

import (
	"runtime"
	"testing"

	"github.com/regkit/regkit/internal/settle"
)

func TestGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := make(chan struct{})
	ended := make(chan struct{})
	go func() { <-stop; close(ended) }()
	close(stop)
	<-ended
	if n := settle.Goroutines(before); n > before {
		t.Errorf("Goroutines = %d after the goroutine ended, want at most %d", n, before)
	}
}
