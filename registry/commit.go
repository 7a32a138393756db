package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/regkit/regkit/registry/meta"
)

// Group commit. Every registry change is one call of update. Writers queue
// up; one of them at a time, the leader, takes everything queued (up to
// maxBatch) and commits it in one metadata transaction, so N concurrent
// pushes cost one fsync instead of N. The others sleep until the leader has
// committed their write, or until it hands them the lead: a leader commits
// batches until its own write is in one, then wakes the oldest waiting
// writer to lead the next, so no writer commits for others for long and no
// writer whose write is already committed stands in line for a lock. If any
// function in a batch fails, the batch is rolled back and its functions run
// again one transaction each, so one refused push never fails another.
// Events are published after each commit, in commit order, by the leader.

// writeReq is one queued write.
type writeReq struct {
	fn func(*txn) error
	// cancelled is the writer's ctx.Done(): the leader skips a write whose
	// writer gave up before its transaction began, and the writer returns
	// its context's error.
	cancelled <-chan struct{}
	t         *txn
	err       error
	done      bool
	// wake receives once: after the write is committed (done set), or when
	// the write is handed the lead (done unset).
	wake chan struct{}
	// panicked is what fn panicked with, if it did; update panics with it
	// again on the writer's own goroutine.
	panicked any
}

// errWriterGone marks a write skipped because its writer's context ended;
// update returns the context's error instead.
var errWriterGone = errors.New("registry: writer's context ended")

// gone reports whether the writer's context ended.
func (req *writeReq) gone() bool {
	select {
	case <-req.cancelled:
		return true
	default:
		return false
	}
}

// errPanicked fails the transaction of a write function that panicked.
var errPanicked = fmt.Errorf("registry: write transaction panicked: %w", ErrUnavailable)

// run calls fn, turning a panic into errPanicked so that the transaction it
// shares with other writes is rolled back like after any failure, and the
// panic goes back to its own writer instead of the batch's leader.
func (req *writeReq) run(t *txn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			req.panicked = v
			err = errPanicked
		}
	}()
	return req.fn(t)
}

// maxBatch caps how many writes share one transaction.
const maxBatch = 64

// update runs fn in a write transaction, possibly shared with concurrent
// writes, and publishes its events after commit. fn may run more than once
// (the meta.Store contract); only its last run's events count.
func (r *Registry) update(ctx context.Context, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{fn: fn, cancelled: ctx.Done(), wake: make(chan struct{}, 1)}
	r.submit(ctx, []*writeReq{req})
	return req.result(ctx)
}

// updateEach runs each of fns as its own write, exactly as update does (its
// own transaction, rolled back alone when it fails), but queues them all at
// once, so that they share commits instead of each waiting for a batch of
// its own: a caller with many independent writes in hand (a purge) gets
// full batches and one flush per batch. errs[i] is fns[i]'s result.
func (r *Registry) updateEach(ctx context.Context, fns []func(*txn) error) (errs []error) {
	errs = make([]error, len(fns))
	if len(fns) == 0 {
		return errs
	}
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	reqs := make([]*writeReq, len(fns))
	for i, fn := range fns {
		reqs[i] = &writeReq{fn: fn, cancelled: ctx.Done(), wake: make(chan struct{}, 1)}
	}
	r.submit(ctx, reqs)
	var panicked any
	for i, req := range reqs {
		if req.panicked != nil {
			panicked = req.panicked
			continue
		}
		errs[i] = req.result(ctx)
	}
	if panicked != nil {
		panic(panicked)
	}
	return errs
}

// submit queues reqs, in order, and returns once every one is committed or
// failed: it waits for them, or leads, committing batches (its own and
// other writers') until its last request is done. ctx is the context of
// every one of reqs.
func (r *Registry) submit(ctx context.Context, reqs []*writeReq) {
	r.queueMu.Lock()
	r.queue = append(r.queue, reqs...)
	lead := !r.leading
	r.leading = true
	r.queueMu.Unlock()
	if !lead {
		// The lead is handed to the oldest queued write, so it can reach
		// one of reqs only once those before it are done: waiting on each
		// in order sees every wake.
		for _, req := range reqs {
			<-req.wake
			if !req.done {
				lead = true
				break
			}
		}
		if !lead {
			return
		}
	}
	last := reqs[len(reqs)-1]
	var batch []*writeReq
	defer func() {
		if v := recover(); v != nil {
			// The metadata store panicked (write functions cannot: see
			// run): fail the batch, so its writers do not wait forever,
			// pass the lead on, and go on panicking.
			for _, b := range batch {
				if !b.done {
					b.finish(storePanicked(v))
				}
			}
			r.handOff()
			panic(v)
		}
	}()
	for !last.done {
		r.queueMu.Lock()
		n := min(len(r.queue), maxBatch)
		batch = r.queue[:n:n]
		r.queue = r.queue[n:]
		r.queueMu.Unlock()
		r.commit(ctx, reqs, batch)
	}
	r.handOff()
}

// storePanicked is the error of the writes in a batch whose metadata store
// panicked with v; it wraps v when v is an error.
func storePanicked(v any) error {
	if err, ok := v.(error); ok {
		return fmt.Errorf("registry: metadata store panicked: %w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("registry: metadata store panicked: %v: %w", v, ErrUnavailable)
}

// result returns the write's error (ctx's when the write was skipped
// because ctx ended), or panics again with what its function panicked with.
func (req *writeReq) result(ctx context.Context) error {
	if req.panicked != nil {
		panic(req.panicked)
	}
	if req.err == errWriterGone {
		return ctx.Err()
	}
	return req.err
}

// handOff ends a leader's turn: it wakes the oldest queued writer to lead
// the next batch, or notes that no one leads.
func (r *Registry) handOff() {
	r.queueMu.Lock()
	defer r.queueMu.Unlock()
	if len(r.queue) > 0 {
		r.queue[0].wake <- struct{}{}
	} else {
		r.leading = false
	}
}

// commit runs a batch in one transaction, or each on its own after a
// failure. It marks every request done. ctx is the leader's, own its
// requests (the first batch holds at least one): the leader's context ends
// only its own writes, never the others' it commits.
func (r *Registry) commit(ctx context.Context, own []*writeReq, batch []*writeReq) {
	shared := context.WithoutCancel(ctx)
	live := batch[:0:0]
	for _, req := range batch {
		if req.gone() {
			req.finish(errWriterGone)
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		err := r.meta.Update(shared, func(tx meta.Tx) error {
			for _, req := range live {
				req.t = r.newTxn(tx)
				if err := req.run(req.t); err != nil {
					return err
				}
			}
			return nil
		})
		r.mcache.commitDone()
		if err == nil {
			for _, req := range live {
				r.events.publish(req.t.events)
				req.finish(nil)
			}
			return
		}
	}
	for _, req := range live {
		rctx := shared
		if slices.Contains(own, req) {
			rctx = ctx
		} else if req.gone() {
			req.finish(errWriterGone)
			continue
		}
		err := r.meta.Update(rctx, func(tx meta.Tx) error {
			req.t = r.newTxn(tx)
			return req.run(req.t)
		})
		r.mcache.commitDone()
		if err == nil {
			r.events.publish(req.t.events)
		}
		req.finish(err)
	}
}

// finish ends a write with err and wakes its writer.
func (req *writeReq) finish(err error) {
	req.err, req.done = err, true
	req.wake <- struct{}{}
}
