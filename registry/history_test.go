package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/tag"
)

// histFixture is a registry on a settable clock with repository "app"
// holding manifests a and b (pushed by digest: no tag, no history).
type histFixture struct {
	t    *testing.T
	clk  *clock
	r    *Registry
	repo *Repository
	a, b digest.Digest
}

var histT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newHistFixture(t *testing.T, newReg func(...Option) *Registry, opts ...Option) *histFixture {
	t.Helper()
	clk := &clock{t: histT0}
	r := newReg(append([]Option{WithClock(clk.now), WithSweepInterval(0)}, opts...)...)
	f := &histFixture{t: t, clk: clk, r: r, repo: repoOf(t, r, "app")}
	f.a = pushImage(t, f.repo, "", 1).desc.Digest
	f.b = pushImage(t, f.repo, "", 1).desc.Digest
	return f
}

// step advances the clock by a second and returns the new time.
func (f *histFixture) step() time.Time {
	f.clk.add(time.Second)
	return f.clk.now()
}

func (f *histFixture) set(name string, d digest.Digest) {
	f.t.Helper()
	if err := f.repo.Tags().Set(context.Background(), name, d, SetOptions{}); err != nil {
		f.t.Fatalf("set %s: %v", name, err)
	}
}

// push pushes d's bytes again under name.
func (f *histFixture) push(name string, d digest.Digest) {
	f.t.Helper()
	ctx := context.Background()
	m, err := f.repo.Manifests().Get(ctx, d.String(), GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.repo.Manifests().Put(ctx, m.Bytes, PutOptions{MediaType: m.Descriptor.MediaType, Tag: name}); err != nil {
		f.t.Fatalf("push %s: %v", name, err)
	}
}

// history returns the moves of name (every tag when empty) as
// "kind old>new" with a and b for the digests, newest first.
func (f *histFixture) history(name string) string {
	f.t.Helper()
	var page HistoryPage
	var err error
	if name == "" {
		page, err = f.repo.Tags().HistoryAll(context.Background(), HistoryOptions{})
	} else {
		page, err = f.repo.Tags().History(context.Background(), name, HistoryOptions{})
	}
	if err != nil {
		f.t.Fatalf("history %s: %v", name, err)
	}
	if page.Next != "" {
		f.t.Errorf("history %s: a page without N has Next %q", name, page.Next)
	}
	return f.describe(page.Moves, name == "")
}

func (f *histFixture) describe(moves []TagMove, withTag bool) string {
	short := func(d digest.Digest) string {
		switch d {
		case "":
			return "-"
		case f.a:
			return "a"
		case f.b:
			return "b"
		}
		return d.Encoded()[:6]
	}
	var parts []string
	for _, m := range moves {
		s := fmt.Sprintf("%s %s>%s", m.Kind, short(m.Old), short(m.New))
		if withTag {
			s = m.Tag + " " + s
		}
		if m.Repository != f.repo.Name() {
			s += " in " + m.Repository
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// TestTagHistoryMoves: every kind of move is recorded with its old and new
// digest, and what moves nothing records nothing.
func TestTagHistoryMoves(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		do   func(f *histFixture)
		tag  string // "" : the whole repository
		want string
	}{
		{"push creates then moves", func(f *histFixture) {
			f.push("v1", f.a)
			f.step()
			f.push("v1", f.b)
		}, "v1", "push a>b, push ->a"},
		{"push of the same digest moves nothing", func(f *histFixture) {
			f.push("v1", f.a)
			f.push("v1", f.a)
			f.set("v1", f.a)
		}, "v1", "push ->a"},
		{"retag", func(f *histFixture) {
			f.set("v1", f.a)
			f.set("v1", f.b)
		}, "v1", "tag a>b, tag ->a"},
		{"untag", func(f *histFixture) {
			f.push("v1", f.a)
			if err := f.repo.Tags().Untag(ctx, "v1"); err != nil {
				t.Fatal(err)
			}
		}, "v1", "untag a>-, push ->a"},
		{"manifest delete takes every tag", func(f *histFixture) {
			f.push("v1", f.a)
			f.set("v2", f.a)
			f.set("v3", f.b)
			if err := f.repo.Manifests().Delete(ctx, f.a); err != nil {
				t.Fatal(err)
			}
		}, "", "v2 delete a>-, v1 delete a>-, v3 tag ->b, v2 tag ->a, v1 push ->a"},
		{"repository delete", func(f *histFixture) {
			f.push("v1", f.a)
			f.step()
			if err := f.r.DeleteRepository(ctx, "app"); err != nil {
				t.Fatal(err)
			}
		}, "v1", "deleteRepository a>-, push ->a"},
		{"repository delete with a report", func(f *histFixture) {
			f.push("v1", f.a)
			f.step()
			if _, err := f.r.DeleteRepositoryReport(ctx, "app"); err != nil {
				t.Fatal(err)
			}
		}, "v1", "deleteRepository a>-, push ->a"},
		{"purge", func(f *histFixture) {
			f.push("old", f.a)
			f.step()
			f.set("keep", f.b)
			f.clk.add(2 * day)
			p := policy.Policy{Purge: &policy.Purge{Filters: []string{"app:^old$"}, Ago: "1d"}}
			if _, err := f.r.Purge(ctx, p, PurgeOptions{}); err != nil {
				t.Fatal(err)
			}
		}, "", "old untag a>-, keep tag ->b, old push ->a"},
		{"revert", func(f *histFixture) {
			f.push("v1", f.a)
			at := f.step()
			f.step()
			f.push("v1", f.b)
			f.step()
			if _, err := f.repo.Tags().Revert(ctx, "v1", at); err != nil {
				t.Fatal(err)
			}
		}, "v1", "revert b>a, push a>b, push ->a"},
		{"a refused move records nothing", func(f *histFixture) {
			f.push("v1", f.a)
			if _, err := f.repo.Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: boolp(false)}); err != nil {
				t.Fatal(err)
			}
			if err := f.repo.Tags().Set(ctx, "v1", f.b, SetOptions{}); !errors.Is(err, ErrLocked) {
				t.Fatalf("move of a locked tag: %v", err)
			}
			if err := f.repo.Tags().Set(ctx, "v2", f.b, SetOptions{IfMatch: f.a}); !errors.Is(err, ErrConflict) {
				t.Fatalf("lost compare-and-swap: %v", err)
			}
		}, "", "v1 push ->a"},
	}
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newHistFixture(t, newReg)
				c.do(f)
				if got := f.history(c.tag); got != c.want {
					t.Errorf("history:\n got %s\nwant %s", got, c.want)
				}
			})
		}
	})
}

// TestTagHistoryOff: WithTagHistory(0) records nothing and refuses Revert.
func TestTagHistoryOff(t *testing.T) {
	r, err := NewMemory(WithTagHistory(0), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	repo := repoOf(t, r, "app")
	img := pushImage(t, repo, "v1", 1)
	page, err := repo.Tags().History(ctx, "v1", HistoryOptions{})
	if err != nil || len(page.Moves) != 0 {
		t.Errorf("history with history off: %+v, %v", page, err)
	}
	if _, err := repo.Tags().Revert(ctx, "v1", time.Now()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("revert with history off: %v", err)
	}
	if n, err := r.PruneTagHistory(ctx); n != 0 || err != nil {
		t.Errorf("prune with history off: %d, %v", n, err)
	}
	_ = img
}

// TestTagHistoryPaging: pages of a tag's and of a repository's history
// join into the whole, newest first, also when moves share a time (a
// clock that stands still); a bad cursor is ErrInvalid.
func TestTagHistoryPaging(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		f := newHistFixture(t, newReg)
		const moves = 25
		for i := 0; i < moves; i++ { // the clock stands still
			d := f.a
			if i%2 == 1 {
				d = f.b
			}
			f.set("v1", d)
			f.set("v2", d)
		}
		for _, c := range []struct {
			name  string
			list  func(HistoryOptions) (HistoryPage, error)
			total int
		}{
			{"tag", func(o HistoryOptions) (HistoryPage, error) { return f.repo.Tags().History(ctx, "v1", o) }, moves},
			{"repository", func(o HistoryOptions) (HistoryPage, error) { return f.repo.Tags().HistoryAll(ctx, o) }, 2 * moves},
		} {
			t.Run(c.name, func(t *testing.T) {
				all, err := c.list(HistoryOptions{})
				if err != nil || len(all.Moves) != c.total {
					t.Fatalf("all: %d moves, %v", len(all.Moves), err)
				}
				for i := 1; i < len(all.Moves); i++ {
					if all.Moves[i].Time.After(all.Moves[i-1].Time) {
						t.Fatalf("move %d is newer than move %d", i, i-1)
					}
				}
				var joined []TagMove
				opts := HistoryOptions{N: 10}
				for pages := 0; ; pages++ {
					if pages > c.total {
						t.Fatal("paging does not end")
					}
					page, err := c.list(opts)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Moves) > 10 {
						t.Fatalf("page of %d", len(page.Moves))
					}
					joined = append(joined, page.Moves...)
					if page.Next == "" {
						break
					}
					opts.Last = page.Next
				}
				if got, want := f.describe(joined, true), f.describe(all.Moves, true); got != want {
					t.Errorf("pages joined:\n%s\nwhole:\n%s", got, want)
				}
				for i := range joined {
					if !joined[i].Time.Equal(all.Moves[i].Time) {
						t.Fatalf("move %d: time %v, whole %v", i, joined[i].Time, all.Moves[i].Time)
					}
				}
			})
		}
		last := f.repo.Tags()
		for _, bad := range []string{"x", "v1@", "v1@-5", "v1@abc", "bad tag@5"} {
			if _, err := last.History(ctx, "v1", HistoryOptions{Last: bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("cursor %q: %v", bad, err)
			}
		}
		if _, err := last.History(ctx, "not a tag", HistoryOptions{}); !errors.Is(err, ErrTagInvalid) {
			t.Errorf("bad tag name: %v", err)
		}
	})
}

// TestTagHistoryExpiry: moves older than the window are hidden at once and
// dropped by Sweep (for good: a registry with a longer window does not see
// them again); revert refuses a time before the window.
func TestTagHistoryExpiry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: histT0}
	r, err := Open(dir, WithClock(clk.now), WithSweepInterval(0), WithTagHistory(7*day))
	if err != nil {
		t.Fatal(err)
	}
	repo := repoOf(t, r, "app")
	a := pushImage(t, repo, "v1", 1).desc.Digest // day 0
	clk.add(3 * day)
	b := pushImage(t, repo, "v1", 1).desc.Digest // day 3
	clk.add(3 * day)
	if err := repo.Tags().Set(ctx, "v1", a, SetOptions{}); err != nil { // day 6
		t.Fatal(err)
	}
	count := func(r *Registry) int {
		page, err := repoOf(t, r, "app").Tags().History(ctx, "v1", HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Moves)
	}
	if n := count(r); n != 3 {
		t.Fatalf("day 6: %d moves", n)
	}
	clk.add(2 * day) // day 8: the push of day 0 is out of the window
	if n := count(r); n != 2 {
		t.Errorf("day 8: %d moves visible, want 2", n)
	}
	if _, err := repo.Tags().Revert(ctx, "v1", histT0.Add(day/2)); !errors.Is(err, ErrInvalid) {
		t.Errorf("revert before the window: %v", err)
	}
	// Within the window: on day 4 the tag pointed to b (the move of day 6
	// tells, though the one that made it so is older than the window).
	clk.add(4 * day) // day 12
	if got, err := repo.Tags().Revert(ctx, "v1", histT0.Add(5*day)); err != nil || got != b {
		t.Fatalf("revert to day 5: %s, %v (b is %s)", got, err, b)
	}
	res, err := r.Sweep(ctx, PurgeOptions{DryRun: true})
	if err != nil || len(res) == 0 {
		t.Fatal(res, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A dry run dropped nothing: a registry with a longer window sees all.
	r, err = Open(dir, WithClock(clk.now), WithSweepInterval(0), WithTagHistory(30*day))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(r); n != 4 {
		t.Errorf("after a dry run: %d moves, want 4", n)
	}
	r.Close()
	r, err = Open(dir, WithClock(clk.now), WithSweepInterval(0), WithTagHistory(7*day))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Sweep(ctx, PurgeOptions{}); err != nil { // drops days 0, 3
		t.Fatal(err)
	}
	if n, err := r.PruneTagHistory(ctx); n != 0 || err != nil {
		t.Errorf("second prune: %d, %v", n, err)
	}
	r.Close()
	r, err = Open(dir, WithClock(clk.now), WithSweepInterval(0), WithTagHistory(30*day))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := count(r); n != 2 {
		t.Errorf("after the sweep, with a longer window: %d moves, want 2", n)
	}
}

// TestTagHistoryPruneBatches: PruneTagHistory drops more than one batch
// across repositories.
func TestTagHistoryPruneBatches(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: histT0}
	r, err := NewMemory(WithClock(clk.now), WithSweepInterval(0), WithTagHistory(day))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ds []digest.Digest
	for _, name := range []string{"a", "a/b", "c"} {
		repo := repoOf(t, r, name)
		d1 := pushImage(t, repo, "", 1).desc.Digest
		d2 := pushImage(t, repo, "", 1).desc.Digest
		ds = append(ds, d1)
		for i := 0; i < 400; i++ {
			d := d1
			if i%2 == 1 {
				d = d2
			}
			if err := repo.Tags().Set(ctx, fmt.Sprint("t", i%7), d, SetOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.add(2 * day)
	repo := repoOf(t, r, "c")
	if err := repo.Tags().Set(ctx, "fresh", ds[2], SetOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := r.PruneTagHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var moves int
	for _, name := range []string{"a", "a/b", "c"} {
		page, err := repoOf(t, r, name).Tags().HistoryAll(ctx, HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		moves += len(page.Moves)
	}
	// 400 moves per repository less the repeats of t0..t6 onto the digest
	// they already had (none: they alternate per tag every 7 sets, which
	// moves each time since 7 is odd).
	if n != 1200 || moves != 1 {
		t.Errorf("pruned %d (want 1200), left %d visible (want 1)", n, moves)
	}
}

// TestTagHistoryReopen: history survives a restart of the embedded store,
// and revert works from it.
func TestTagHistoryReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &clock{t: histT0}
	open := func() *Registry {
		r, err := Open(dir, WithClock(clk.now), WithSweepInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := open()
	repo := repoOf(t, r, "app")
	a := pushImage(t, repo, "v1", 1).desc.Digest
	at := clk.now()
	clk.add(time.Minute)
	pushImage(t, repo, "v1", 1)
	clk.add(time.Minute)
	if err := repo.Tags().Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	before, err := repo.Tags().HistoryAll(ctx, HistoryOptions{})
	if err != nil || len(before.Moves) != 3 {
		t.Fatal(before, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = open()
	defer r.Close()
	repo = repoOf(t, r, "app")
	after, err := repo.Tags().HistoryAll(ctx, HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after reopen:\n%v\nbefore:\n%v", after, before)
	}
	clk.add(time.Minute)
	if got, err := repo.Tags().Revert(ctx, "v1", at); err != nil || got != a {
		t.Fatalf("revert after reopen: %s, %v", got, err)
	}
	if d, err := repo.Tags().Resolve(ctx, "v1"); err != nil || d.Digest != a {
		t.Errorf("v1 resolves to %v, %v", d.Digest, err)
	}
}

// TestTagHistoryDeletedRepository: a deleted repository keeps its tags'
// history, and a revert there names the manifest that is gone.
func TestTagHistoryDeletedRepository(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		f := newHistFixture(t, newReg)
		at := f.step()
		f.push("v1", f.a)
		f.step()
		if err := f.r.DeleteRepository(ctx, "app"); err != nil {
			t.Fatal(err)
		}
		_, err := f.repo.Tags().Revert(ctx, "v1", at)
		var gone *ManifestGoneError
		if !errors.As(err, &gone) || gone.Digest != f.a || gone.Repository != "app" || gone.Tag != "v1" {
			t.Fatalf("revert in a deleted repository: %v", err)
		}
		if h := f.history(""); h != "v1 deleteRepository a>-, v1 push ->a" {
			t.Errorf("history: %s", h)
		}
	})
}
