package settle

import (
	"runtime"
	"time"
)

// Goroutines waits up to a few seconds for the number of goroutines to be at
// most want and returns the last count seen. A test compares it with the
// count taken before the code under test ran.
func Goroutines(want int) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
