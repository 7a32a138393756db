package registry

import (
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// Action names what an Event reports.
type Action string

// The actions.
const (
	// ActionPush: a manifest was stored (Tag is set when pushed by tag).
	ActionPush Action = "push"
	// ActionTag: a tag was set or moved to Digest.
	ActionTag Action = "tag"
	// ActionUntag: a tag was removed; its manifest stays.
	ActionUntag Action = "untag"
	// ActionDelete: a manifest was deleted (with its tags).
	ActionDelete Action = "delete"
	// ActionDeleteRepository: a repository was deleted with all it held.
	ActionDeleteRepository Action = "delete_repository"
	// ActionAttributes: changeable attributes of a repository, tag or
	// manifest changed.
	ActionAttributes Action = "attributes"
	// ActionBlobLink: a blob became readable in a repository (upload or mount).
	ActionBlobLink Action = "blob_link"
	// ActionBlobUnlink: a blob was removed from a repository.
	ActionBlobUnlink Action = "blob_unlink"
	// ActionCollect: garbage collection deleted an unreferenced blob.
	ActionCollect Action = "collect"
	// ActionRestore: a soft-deleted manifest (Tag empty) or tag (Tag set,
	// Digest the manifest it points to again) was restored.
	ActionRestore Action = "restore"
	// ActionRestoreRepository: a soft-deleted repository came back (an
	// artifact in it was restored, or something was pushed to it).
	ActionRestoreRepository Action = "restore_repository"
	// ActionPurgeDeleted: a soft-deleted manifest (Digest), tag (Tag and
	// Digest) or repository (Repository only) expired and was purged for
	// good; a manifest's blobs are now left to garbage collection.
	ActionPurgeDeleted Action = "purge_deleted"
	// ActionRevert: Tags.Revert put a tag back on Digest, the manifest it
	// named at an earlier time.
	ActionRevert Action = "revert"
)

// Event reports one committed change. Events reach every subscriber in commit
// order, after the change is durable.
type Event struct {
	// Seq numbers events from 1 in commit order within this Registry value.
	Seq uint64
	// Time is when the change committed.
	Time time.Time
	// Action is what happened.
	Action Action
	// Repository is the repository changed (empty for ActionCollect).
	Repository string
	// Tag is the tag involved, if any.
	Tag string
	// Digest is the manifest or blob involved, if any.
	Digest digest.Digest
	// MediaType and Size describe the manifest of a push.
	MediaType string
	// Size is the manifest's or blob's length in bytes.
	Size int64
	// Soft is set on ActionDelete, ActionUntag and ActionDeleteRepository
	// under soft delete: what went is kept in the deleted state, restorable
	// until it expires (ActionRestore, ActionPurgeDeleted).
	Soft bool
}

// Subscriber receives events. It runs on its own goroutine, one event at a
// time; a slow subscriber delays only its own later events, never a writer.
type Subscriber func(Event)

// dispatcher fans events out to subscribers, each through its own unbounded
// queue, so publishing never blocks.
type dispatcher struct {
	mu   sync.Mutex
	seq  uint64
	subs []*subQueue
	wg   sync.WaitGroup
}

type subQueue struct {
	fn     Subscriber
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []Event
	closed bool
}

func newDispatcher(subs []Subscriber) *dispatcher {
	d := &dispatcher{}
	for _, fn := range subs {
		q := &subQueue{fn: fn}
		q.cond = sync.NewCond(&q.mu)
		d.subs = append(d.subs, q)
		d.wg.Add(1)
		go q.run(&d.wg)
	}
	return d
}

// publish numbers evs and queues them for every subscriber. Callers hold the
// registry's write lock, so sequence numbers follow commit order.
func (d *dispatcher) publish(evs []Event) {
	if len(d.subs) == 0 || len(evs) == 0 {
		return
	}
	d.mu.Lock()
	for i := range evs {
		d.seq++
		evs[i].Seq = d.seq
	}
	d.mu.Unlock()
	for _, q := range d.subs {
		q.mu.Lock()
		if !q.closed {
			q.queue = append(q.queue, evs...)
			q.cond.Signal()
		}
		q.mu.Unlock()
	}
}

// close delivers what is queued and stops the subscriber goroutines.
func (d *dispatcher) close() {
	for _, q := range d.subs {
		q.mu.Lock()
		q.closed = true
		q.cond.Signal()
		q.mu.Unlock()
	}
	d.wg.Wait()
}

func (q *subQueue) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		q.mu.Lock()
		for len(q.queue) == 0 && !q.closed {
			q.cond.Wait()
		}
		batch := q.queue
		q.queue = nil
		closed := q.closed
		q.mu.Unlock()
		for _, ev := range batch {
			q.fn(ev)
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}
