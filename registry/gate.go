package registry

import (
	"sync"
	"sync/atomic"
)

// opGate counts the operations in flight on a Registry, so that Close can
// refuse new ones and wait for those running before it closes the stores.
// Entering and leaving cost one atomic add each: no lock on the pull path.
type opGate struct {
	// state is the number of operations in flight, plus closingBit once
	// Close began.
	state atomic.Int64
	// idle is closed once Close began and no operation is in flight.
	idle     chan struct{}
	idleOnce sync.Once
}

const closingBit = 1 << 62

func newOpGate() *opGate { return &opGate{idle: make(chan struct{})} }

// enter registers an operation. It fails (false) once Close began; the
// caller must then not touch the stores.
func (g *opGate) enter() bool {
	if g.state.Add(1)&closingBit != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends an operation registered by enter (or one enter refused).
func (g *opGate) leave() {
	if g.state.Add(-1) == closingBit {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// close refuses new operations from now on. It returns a channel that is
// closed when none is in flight any more. Call it once.
func (g *opGate) close() <-chan struct{} {
	if g.state.Add(closingBit) == closingBit {
		g.idleOnce.Do(func() { close(g.idle) })
	}
	return g.idle
}

// closing reports whether close was called.
func (g *opGate) closing() bool { return g.state.Load()&closingBit != 0 }
