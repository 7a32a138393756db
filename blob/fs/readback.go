package fs

// readBacker reads the runs a sink writes with direct I/O back into the
// page cache.
//
// The write stage only posts how far the file is written; a goroutine of
// the sink's own asks the kernel to read the new range into the page cache
// (startReadBack). The write stage never waits for it: a post replaces one
// the goroutine has not taken yet, whose range the newer one covers.
type readBacker struct {
	ends chan int64 // capacity 1: the newest end to read back to
	done chan struct{}
}

// newReadBacker starts reading f back from offset from.
func newReadBacker(f file, from int64) *readBacker {
	rb := &readBacker{ends: make(chan int64, 1), done: make(chan struct{})}
	go func() {
		defer close(rb.done)
		for end := range rb.ends {
			if end > from {
				startReadBack(f, from, end-from)
				from = end
			}
		}
	}()
	return rb
}

// upTo asks for f to be read back up to end. It never blocks; only one
// goroutine (the sink's writer) may call it.
func (rb *readBacker) upTo(end int64) {
	for {
		select {
		case rb.ends <- end:
			return
		default:
		}
		select {
		case <-rb.ends: // not taken yet: end covers it
		default:
		}
	}
}

// close waits for the last range posted to be asked for.
func (rb *readBacker) close() {
	close(rb.ends)
	<-rb.done
}
