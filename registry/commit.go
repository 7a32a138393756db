package registry

import (
	"context"

	"github.com/regkit/regkit/registry/meta"
)

// Group commit. Every registry change is one call of update. Writers that
// arrive while a commit is in progress queue up; the next writer to take
// writeMu commits everything queued in one metadata transaction, so N
// concurrent pushes cost one fsync instead of N. If any function in a batch
// fails, the batch is rolled back and its functions run again one
// transaction each, so one refused push never fails another. Events are
// published after each commit, in commit order, while writeMu is held.

// writeReq is one queued write.
type writeReq struct {
	ctx  context.Context
	fn   func(*txn) error
	t    *txn
	err  error
	done bool
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
	req := &writeReq{ctx: ctx, fn: fn}
	r.queueMu.Lock()
	r.queue = append(r.queue, req)
	r.queueMu.Unlock()

	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	for !req.done {
		r.queueMu.Lock()
		n := min(len(r.queue), maxBatch)
		batch := r.queue[:n:n]
		r.queue = r.queue[n:]
		r.queueMu.Unlock()
		r.commit(batch)
	}
	return req.err
}

// commit runs a batch in one transaction, or each on its own after a
// failure. It marks every request done.
func (r *Registry) commit(batch []*writeReq) {
	live := batch[:0:0]
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.err, req.done = err, true
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		err := r.meta.Update(context.WithoutCancel(live[0].ctx), func(tx meta.Tx) error {
			for _, req := range live {
				req.t = &txn{Tx: tx, now: r.now()}
				if err := req.fn(req.t); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, req := range live {
				req.done = true
				r.events.publish(req.t.events)
			}
			return
		}
	}
	for _, req := range live {
		req.err = r.meta.Update(req.ctx, func(tx meta.Tx) error {
			req.t = &txn{Tx: tx, now: r.now()}
			return req.fn(req.t)
		})
		req.done = true
		if req.err == nil {
			r.events.publish(req.t.events)
		}
	}
}
