package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// TestTagRevert covers revert's outcomes: back to a stored manifest, to a
// deleted one, over locks, to before the tag existed, and bad times.
func TestTagRevert(t *testing.T) {
	ctx := context.Background()
	type setup struct {
		f  *histFixture
		t1 time.Time // v1 -> a since t1
		t2 time.Time // v1 -> b since t2
	}
	cases := []struct {
		name    string
		prepare func(s *setup)
		at      func(s *setup) time.Time
		want    string // "a", "b" or the error expected
		history string // v1's history after, newest first ("" : unchecked)
	}{
		{"to a stored manifest", nil, func(s *setup) time.Time { return s.t1 }, "a", "revert b>a, push a>b, push ->a"},
		{"to between moves", nil, func(s *setup) time.Time { return s.t1.Add(time.Millisecond) }, "a", ""},
		{"to now changes nothing", nil, func(s *setup) time.Time { return s.f.clk.now() }, "b", "push a>b, push ->a"},
		{"recreates a removed tag", func(s *setup) {
			s.f.step()
			if err := s.f.repo.Tags().Untag(ctx, "v1"); err != nil {
				s.f.t.Fatal(err)
			}
		}, func(s *setup) time.Time { return s.t2 }, "b", "revert ->b, untag b>-, push a>b, push ->a"},
		{"to a deleted manifest", func(s *setup) {
			if err := s.f.repo.Manifests().Delete(ctx, s.f.a); err != nil {
				s.f.t.Fatal(err)
			}
		}, func(s *setup) time.Time { return s.t1 }, "gone", "push a>b, push ->a"},
		{"over a locked tag", func(s *setup) {
			if _, err := s.f.repo.Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: boolp(false)}); err != nil {
				s.f.t.Fatal(err)
			}
		}, func(s *setup) time.Time { return s.t1 }, "locked", "push a>b, push ->a"},
		{"in a locked repository", func(s *setup) {
			if _, err := s.f.repo.SetAttributes(ctx, tag.Patch{WriteEnabled: boolp(false)}); err != nil {
				s.f.t.Fatal(err)
			}
		}, func(s *setup) time.Time { return s.t1 }, "locked", ""},
		{"a delete-locked tag still moves", func(s *setup) {
			if _, err := s.f.repo.Tags().SetAttributes(ctx, "v1", tag.Patch{DeleteEnabled: boolp(false)}); err != nil {
				s.f.t.Fatal(err)
			}
		}, func(s *setup) time.Time { return s.t1 }, "a", ""},
		{"to before the tag existed", nil, func(s *setup) time.Time { return s.t1.Add(-time.Second) }, "unknown", ""},
		{"to the future", nil, func(s *setup) time.Time { return s.f.clk.now().Add(time.Hour) }, "invalid", ""},
		{"to no time", nil, func(s *setup) time.Time { return time.Time{} }, "invalid", ""},
		{"a revert reverted", func(s *setup) {
			s.f.step()
			if _, err := s.f.repo.Tags().Revert(ctx, "v1", s.t1); err != nil {
				s.f.t.Fatal(err)
			}
			s.f.step()
		}, func(s *setup) time.Time { return s.f.clk.now().Add(-3 * time.Second) }, "b", "revert a>b, revert b>a, push a>b, push ->a"},
	}
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f := newHistFixture(t, newReg)
				s := &setup{f: f}
				s.t1 = f.step()
				f.push("v1", f.a)
				f.step()
				s.t2 = f.step()
				f.push("v1", f.b)
				f.step()
				if c.prepare != nil {
					c.prepare(s)
				}
				f.step()
				at := c.at(s)
				got, err := f.repo.Tags().Revert(ctx, "v1", at)
				var gone *ManifestGoneError
				switch c.want {
				case "a", "b":
					want := map[string]digest.Digest{"a": f.a, "b": f.b}[c.want]
					if err != nil || got != want {
						t.Fatalf("revert: %s, %v; want %s", got, err, c.want)
					}
					if d, err := f.repo.Tags().Resolve(ctx, "v1"); err != nil || d.Digest != want {
						t.Errorf("v1 resolves to %s, %v", d.Digest, err)
					}
				case "gone":
					if !errors.As(err, &gone) || gone.Digest != f.a || !errors.Is(err, ErrManifestUnknown) || !errors.Is(err, ErrNotFound) {
						t.Fatalf("revert to a deleted manifest: %v", err)
					}
					if !strings.Contains(err.Error(), f.a.String()) {
						t.Errorf("the error does not name the digest: %v", err)
					}
				case "locked":
					if !errors.Is(err, ErrLocked) {
						t.Fatalf("revert over a lock: %v", err)
					}
				case "unknown":
					if !errors.Is(err, ErrManifestUnknown) || errors.As(err, &gone) {
						t.Fatalf("revert to before the tag: %v", err)
					}
				case "invalid":
					if !errors.Is(err, ErrInvalid) {
						t.Fatalf("revert to %v: %v", at, err)
					}
				}
				if c.history != "" {
					if h := f.history("v1"); h != c.history {
						t.Errorf("history:\n got %s\nwant %s", h, c.history)
					}
				}
			})
		}
	})
}

// TestTagHistoryConcurrent: concurrent moves of one tag (on a clock that
// stands still, through group commit) leave a history whose moves chain,
// each from where the one before left the tag, to where the tag is now.
func TestTagHistoryConcurrent(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		f := newHistFixture(t, newReg)
		c := pushImage(t, f.repo, "", 1).desc.Digest
		ds := []digest.Digest{f.a, f.b, c}
		const writers, perWriter = 6, 30
		errs := make(chan error, writers+1)
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := f.repo.Tags().History(ctx, "v1", HistoryOptions{N: 5}); err != nil {
					errs <- err
					return
				}
			}
		}()
		done := make(chan error, writers)
		for w := 0; w < writers; w++ {
			go func(w int) {
				for i := 0; i < perWriter; i++ {
					var err error
					if (w+i)%5 == 4 {
						err = f.repo.Tags().Untag(ctx, "v1")
						if errors.Is(err, ErrNotFound) {
							err = nil
						}
					} else {
						err = f.repo.Tags().Set(ctx, "v1", ds[(w+i)%3], SetOptions{})
					}
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}(w)
		}
		for w := 0; w < writers; w++ {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		page, err := f.repo.Tags().History(ctx, "v1", HistoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var now digest.Digest
		if d, err := f.repo.Tags().Resolve(ctx, "v1"); err == nil {
			now = d.Digest
		}
		moves := page.Moves
		if len(moves) == 0 || moves[0].New != now {
			t.Fatalf("newest move %+v, tag at %q", moves[0], now)
		}
		for i := 1; i < len(moves); i++ {
			if moves[i].New != moves[i-1].Old || !moves[i].Time.Before(moves[i-1].Time) {
				t.Fatalf("moves %d and %d do not chain: %+v then %+v", i, i-1, moves[i], moves[i-1])
			}
		}
		if last := moves[len(moves)-1]; last.Old != "" {
			t.Errorf("oldest move %+v does not create the tag", last)
		}
	})
}
