package registry

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Tag history: every move of a tag is recorded in the transaction that
// makes it, and kept for a window. See the package documentation, section
// "Tag history".

// DefaultTagHistory is how long tag moves are kept unless WithTagHistory
// says otherwise and soft delete is off: 7 days, ACR's default soft-delete
// retention. With soft delete on and no WithTagHistory, the history is kept
// as long as deleted items are (SetSoftDelete's days), so a tag's moves can
// be read for as long as the manifests they name can be restored.
const DefaultTagHistory = 7 * 24 * time.Hour

// WithTagHistory sets how long the moves of tags are kept (default
// DefaultTagHistory). History older than d is hidden at once and dropped by
// the next Sweep (or PruneTagHistory). d <= 0 turns the history off:
// nothing is recorded, what was recorded stays as it is, and Revert fails
// with an error wrapping ErrUnsupported.
func WithTagHistory(d time.Duration) Option {
	return func(o *options) { o.tagHistory, o.tagHistorySet = max(d, 0), true }
}

// historyWindow is how long tag moves are kept now: WithTagHistory's
// window, else the soft-delete window while soft delete is on, else
// DefaultTagHistory.
func (r *Registry) historyWindow() time.Duration {
	if !r.opts.tagHistorySet {
		if p := r.softDelete.Load(); p != nil && p.Enabled {
			return time.Duration(p.Days) * 24 * time.Hour
		}
	}
	return r.opts.tagHistory
}

// TagMoveKind names the operation that moved a tag.
type TagMoveKind string

// The kinds of tag moves.
const (
	// MovePush: a manifest push named the tag (also an import or a pull
	// through the cache).
	MovePush TagMoveKind = "push"
	// MoveTag: Tags.Set pointed the tag at a stored manifest (a retag).
	MoveTag TagMoveKind = "tag"
	// MoveUntag: the tag was removed and its manifest stayed (Tags.Untag,
	// a purge's untag).
	MoveUntag TagMoveKind = "untag"
	// MoveDelete: the tag went with its manifest (a manifest delete, by
	// API, HTTP, purge or retention).
	MoveDelete TagMoveKind = "delete"
	// MoveDeleteRepository: the tag went with its repository.
	MoveDeleteRepository TagMoveKind = "deleteRepository"
	// MoveRestore: a restore of deleted content put the tag back.
	MoveRestore TagMoveKind = "restore"
	// MoveRevert: Tags.Revert put the tag back where it was.
	MoveRevert TagMoveKind = "revert"
)

// TagMove is one recorded move of a tag.
type TagMove struct {
	// Repository and Tag name the tag.
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Time is when the move committed. A tag's moves have distinct times,
	// in the order they were made: a move stamped no later than the tag's
	// previous one (a clock that stood still or went back) is recorded a
	// nanosecond after it.
	Time time.Time `json:"time"`
	// Kind is the operation that moved it.
	Kind TagMoveKind `json:"kind"`
	// Old is the digest the tag pointed to before; empty: it was created.
	Old digest.Digest `json:"old,omitempty"`
	// New is the digest it points to after; empty: it was removed.
	New digest.Digest `json:"new,omitempty"`
}

// HistoryOptions ask for one page of tag history.
type HistoryOptions struct {
	// Last is where the previous page ended: its Next cursor.
	Last string
	// N caps the page size (N <= 0: everything, with no Next).
	N int
}

// HistoryPage is one page of tag history, newest first.
type HistoryPage struct {
	// Moves are the page's moves, newest first.
	Moves []TagMove
	// Next is the cursor of the following page (HistoryOptions.Last),
	// empty on the last page.
	Next string
}

// ManifestGoneError refuses a Revert whose target manifest is no longer in
// the repository. It wraps ErrManifestUnknown (of class ErrNotFound).
type ManifestGoneError struct {
	// Repository and Tag name the tag being reverted.
	Repository, Tag string
	// At is the time the revert asked for.
	At time.Time
	// Digest is the manifest the tag pointed to then.
	Digest digest.Digest
}

// Error describes the refusal, naming the digest.
func (e *ManifestGoneError) Error() string {
	return fmt.Sprintf("registry: revert %s:%s to %s: manifest %s is no longer in the repository: %v",
		e.Repository, e.Tag, e.At.UTC().Format(time.RFC3339Nano), e.Digest, ErrManifestUnknown)
}

// Unwrap returns ErrManifestUnknown.
func (e *ManifestGoneError) Unwrap() error { return ErrManifestUnknown }

// recordTagMove records in t that tag of repo moved from old to new (old
// empty: created; new empty: removed) by an operation of kind. Every path
// that moves a tag calls it in the transaction of the move; it does nothing
// when the history is off or nothing moved.
func recordTagMove(t *txn, repo, tagName string, kind TagMoveKind, old, new digest.Digest) error {
	if t.history <= 0 || old == new {
		return nil
	}
	at := t.now
	last, found, err := schema.TagHistory.Last(t, repo, tagName)
	if err != nil {
		return err
	}
	if found && !at.After(last) {
		at = last.Add(time.Nanosecond)
	}
	return schema.TagHistory.Put(t, repo, tagName, at, &schema.TagMove{Kind: string(kind), Old: old, New: new})
}

// deleteMoveKind is the kind of move of a tag deleteManifest removes: with
// the lock check (a manifest delete) MoveDelete, without it (the callers
// that checked the whole repository first: repository deletes)
// MoveDeleteRepository.
func deleteMoveKind(check bool) TagMoveKind {
	if check {
		return MoveDelete
	}
	return MoveDeleteRepository
}

// historyCutoff is the oldest time the history shows at now: zero when the
// history is off (what was recorded then stays visible).
func (r *Registry) historyCutoff(now time.Time) time.Time {
	w := r.historyWindow()
	if w <= 0 {
		return time.Time{}
	}
	return now.Add(-w)
}

// historyCursor is the cursor of a page ending on m: tag@unixnano.
func historyCursor(m TagMove) string {
	return m.Tag + cursorSep + strconv.FormatInt(m.Time.UnixNano(), 10)
}

// parseHistoryCursor reads a cursor historyCursor made.
func parseHistoryCursor(s string) (tagName string, at time.Time, err error) {
	tagName, n, ok := strings.Cut(s, cursorSep)
	ns, perr := strconv.ParseInt(n, 10, 64)
	if !ok || perr != nil || ns <= 0 || tag.ValidateName(tagName) != nil {
		return "", time.Time{}, errorf(ErrInvalid, "tag history cursor %q", s)
	}
	return tagName, time.Unix(0, ns).UTC(), nil
}

// History returns the recorded moves of tag name, newest first, one page
// at a time (opts). It lists moves within the history window, whatever
// the tag's state now: a tag that was deleted, or whose repository was,
// keeps its history. Locks do not hide history (they stop moves, and a
// refused move records nothing). A tag never moved within the window has
// an empty history.
func (ts *Tags) History(ctx context.Context, name string, opts HistoryOptions) (HistoryPage, error) {
	if err := tag.ValidateName(name); err != nil {
		return HistoryPage{}, errorf(ErrTagInvalid, "%w", err)
	}
	return ts.history(ctx, name, opts)
}

// HistoryAll is History for every tag of the repository: their moves
// merged, newest first (moves made at the same time in reverse tag
// order).
func (ts *Tags) HistoryAll(ctx context.Context, opts HistoryOptions) (HistoryPage, error) {
	return ts.history(ctx, "", opts)
}

// history is History of one tag, or of every tag when name is empty.
func (ts *Tags) history(ctx context.Context, name string, opts HistoryOptions) (HistoryPage, error) {
	reg := ts.repo.reg
	if err := reg.enter(); err != nil {
		return HistoryPage{}, err
	}
	defer reg.leave()
	var (
		lastTag string
		before  time.Time
	)
	if opts.Last != "" {
		var err error
		if lastTag, before, err = parseHistoryCursor(opts.Last); err != nil {
			return HistoryPage{}, err
		}
	}
	cutoff := reg.historyCutoff(reg.now())
	repo := ts.repo.name
	var page HistoryPage
	err := reg.view(ctx, func(tx meta.Tx) error {
		page = HistoryPage{}
		more := false
		add := func(at time.Time, tg string, rec *schema.TagMove) bool {
			if at.Before(cutoff) {
				return false
			}
			if opts.N > 0 && len(page.Moves) == opts.N {
				more = true
				return false
			}
			page.Moves = append(page.Moves, TagMove{Repository: repo, Tag: tg, Time: at, Kind: TagMoveKind(rec.Kind), Old: rec.Old, New: rec.New})
			return true
		}
		var err error
		if name != "" {
			err = schema.TagHistory.ScanTag(tx, repo, name, true, before, func(at time.Time, rec *schema.TagMove) bool {
				return add(at, name, rec)
			})
		} else {
			err = schema.TagHistory.ScanRepo(tx, repo, before, lastTag, add)
		}
		if more {
			page.Next = historyCursor(page.Moves[len(page.Moves)-1])
		}
		return err
	})
	if err != nil {
		return HistoryPage{}, err
	}
	return page, nil
}

// Revert points tag name back at the manifest it pointed to at time at,
// and returns that manifest's digest. The move goes through the same
// checks as Set: a locked tag (writeEnabled=false) or a repository that is
// not writable refuses it with an error wrapping ErrLocked. It is recorded
// as a move of kind MoveRevert, so a revert can itself be reverted. When
// the tag already points there nothing changes. A manifest that was
// soft-deleted and has not expired is restored first, in the same
// transaction (the manifest alone: its other deleted tags stay restorable
// with Repository.Restore), under Restore's rules (an index whose children
// are gone, or a referrer whose subject is, is refused).
//
// It fails with an error wrapping ErrInvalid when at is zero, in the
// future or older than the history window; with a *ManifestGoneError when
// the manifest is neither in the repository nor restorable; with an error wrapping
// ErrManifestUnknown when the tag did not exist at at; and with one
// wrapping ErrUnsupported when the history is off (WithTagHistory).
func (ts *Tags) Revert(ctx context.Context, name string, at time.Time) (digest.Digest, error) {
	reg := ts.repo.reg
	if err := reg.enter(); err != nil {
		return "", err
	}
	defer reg.leave()
	if err := tag.ValidateName(name); err != nil {
		return "", errorf(ErrTagInvalid, "%w", err)
	}
	if at.IsZero() {
		return "", errorf(ErrInvalid, "revert %s:%s: no time given", ts.repo.name, name)
	}
	at = at.UTC()
	var want digest.Digest
	err := reg.update(ctx, func(t *txn) error {
		want = ""
		if t.history <= 0 {
			return errorf(ErrUnsupported, "revert %s:%s: the tag history is off", ts.repo.name, name)
		}
		when := at.Format(time.RFC3339Nano)
		switch {
		case at.After(t.now):
			return errorf(ErrInvalid, "revert %s:%s to %s: the time is in the future", ts.repo.name, name, when)
		case at.Before(t.now.Add(-t.history)):
			return errorf(ErrInvalid, "revert %s:%s to %s: the time is older than the tag history window (%s)", ts.repo.name, name, when, t.history)
		}
		var err error
		want, err = digestAt(t, ts.repo.name, name, at)
		if err != nil {
			return err
		}
		if want == "" {
			return errorf(ErrManifestUnknown, "revert %s:%s to %s: the tag did not exist then", ts.repo.name, name, when)
		}
		ok, err := schema.Manifests.Has(t, ts.repo.name, want)
		if err != nil {
			return err
		}
		repo, err := loadRepo(t, ts.repo.name)
		if err != nil {
			return err
		}
		if !ok {
			// Soft-deleted and not expired: restore the manifest (not its
			// other tags) in this transaction, then point the tag at it.
			drec, found, err := schema.DeletedManifests.Get(t, ts.repo.name, want)
			if err != nil {
				return err
			}
			if !found {
				return &ManifestGoneError{Repository: ts.repo.name, Tag: name, At: at, Digest: want}
			}
			if err := tag.CheckWrite(repo.item()); err != nil {
				return err
			}
			if !repo.exists && repo.deleted != nil {
				if err := repo.save(t); err != nil {
					return err
				}
			}
			if err := restoreManifest(t, repo, want, &drec); err != nil {
				return err
			}
		}
		changed, err := setTagAs(t, repo, name, want, nil, MoveRevert)
		if err != nil || !changed {
			return err
		}
		return repo.save(t)
	})
	if err != nil {
		return "", err
	}
	return want, nil
}

// digestAt returns the digest tag name of repo pointed to at time at,
// within the history window: the Old of its first move after at or, when
// it has not moved since, the digest it points to now. Empty: the tag did
// not exist then.
func digestAt(tx meta.Tx, repo, name string, at time.Time) (digest.Digest, error) {
	var (
		old   digest.Digest
		moved bool
	)
	err := schema.TagHistory.ScanTag(tx, repo, name, false, at, func(_ time.Time, rec *schema.TagMove) bool {
		old, moved = rec.Old, true
		return false
	})
	if err != nil || moved {
		return old, err
	}
	rec, ok, err := schema.Tags.Get(tx, repo, name)
	if err != nil || !ok {
		return "", err
	}
	return rec.Digest, nil
}

// PruneTagHistory drops the tag moves older than the history window and
// reports how many it dropped. Sweep (and so the background sweep) calls
// it; hosts that turned the background sweep off call it, or Sweep, now
// and then. With the history off it drops nothing.
func (r *Registry) PruneTagHistory(ctx context.Context) (int, error) {
	if err := r.enter(); err != nil {
		return 0, err
	}
	defer r.leave()
	if r.historyWindow() <= 0 {
		return 0, nil
	}
	const batch = 1000
	total := 0
	for {
		var n int
		err := r.update(ctx, func(t *txn) error {
			var err error
			n, err = schema.TagHistory.Prune(t, r.historyCutoff(t.now), batch)
			return err
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
