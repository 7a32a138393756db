package registry

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// stepClock is a clock the test moves.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) tick()          { c.mu.Lock(); c.now = c.now.Add(time.Second); c.mu.Unlock() }

// allTagPages reads every page of n from the start and returns the names.
func allTagPages(t *testing.T, ts *Tags, opts PageOptions) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		pg, err := ts.Page(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if opts.N > 0 && len(pg.Tags) > opts.N {
			t.Fatalf("page of %d for n=%d", len(pg.Tags), opts.N)
		}
		for _, p := range pg.Tags {
			out = append(out, p.Name)
		}
		if pg.Next == "" {
			return out
		}
		if i > 100 {
			t.Fatal("paging does not end")
		}
		opts.Last = pg.Next
	}
}

func TestTagPages(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		clk := &stepClock{now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
		reg := newReg(WithClock(clk.Now))
		repo := repoOf(t, reg, "team/app")
		// Set at increasing times: e d c b a, then f and g at the same time
		// (names break the tie), then hidden.
		var imgs []image
		for _, n := range []string{"e", "d", "c", "b", "a"} {
			imgs = append(imgs, pushImage(t, repo, n, 1))
			clk.tick()
		}
		for _, n := range []string{"g", "f"} {
			if err := repo.Tags().Set(ctx, n, imgs[0].desc.Digest, SetOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		clk.tick()
		pushImage(t, repo, "hidden", 1)
		if _, err := repo.Tags().SetAttributes(ctx, "hidden", tag.Patch{ListEnabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		want := map[ListOrder][]string{
			OrderName:     {"a", "b", "c", "d", "e", "f", "g"},
			OrderTimeDesc: {"f", "g", "a", "b", "c", "d", "e"},
			OrderTimeAsc:  {"e", "d", "c", "b", "a", "f", "g"},
		}
		for order, w := range want {
			for n := 0; n <= len(w)+1; n++ {
				if got := allTagPages(t, repo.Tags(), PageOptions{N: n, Order: order}); !slices.Equal(got, w) {
					t.Errorf("order %d, n=%d: %v, want %v", order, n, got, w)
				}
			}
		}
		// The digest filter, in each order.
		byDigest := PageOptions{Digest: imgs[0].desc.Digest, N: 1}
		if got := allTagPages(t, repo.Tags(), byDigest); !slices.Equal(got, []string{"e", "f", "g"}) {
			t.Errorf("digest filter = %v", got)
		}
		byDigest.Order = OrderTimeDesc
		if got := allTagPages(t, repo.Tags(), byDigest); !slices.Equal(got, []string{"f", "g", "e"}) {
			t.Errorf("digest filter, time desc = %v", got)
		}
		// A plain name as cursor in time order; a cursor whose tag is gone.
		pg, err := repo.Tags().Page(ctx, PageOptions{Last: "b", Order: OrderTimeAsc})
		if err != nil || len(pg.Tags) != 3 || pg.Tags[0].Name != "a" {
			t.Errorf("after b, time asc = %+v, %v", pg, err)
		}
		pg, err = repo.Tags().Page(ctx, PageOptions{N: 2, Order: OrderTimeDesc})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Tags().Untag(ctx, "g"); err != nil {
			t.Fatal(err)
		}
		if got := allTagPages(t, repo.Tags(), PageOptions{Last: pg.Next, N: 2, Order: OrderTimeDesc}); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
			t.Errorf("after a deleted cursor = %v", got)
		}
		for _, bad := range []PageOptions{
			{Last: "zz", Order: OrderTimeDesc},
			{Last: "a@noon", Order: OrderTimeAsc},
		} {
			if _, err := repo.Tags().Page(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: %v, want ErrInvalid", bad, err)
			}
		}
		if _, err := repoOf(t, reg, "nope").Tags().Page(ctx, PageOptions{}); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("missing repository: %v", err)
		}
		if _, err := repoOf(t, reg, "nope").Manifests().Page(ctx, PageOptions{}); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("missing repository: %v", err)
		}
	})
}

func TestManifestPages(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		clk := &stepClock{now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
		reg := newReg(WithClock(clk.Now))
		repo := repoOf(t, reg, "app")
		var byTime []string
		for range 5 {
			byTime = append(byTime, pushImage(t, repo, "", 1).desc.Digest.String())
			clk.tick()
		}
		if _, err := repo.Manifests().SetAttributes(ctx, digest.Digest(byTime[4]), tag.Patch{ListEnabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		byTime = byTime[:4]
		byName := slices.Clone(byTime)
		sort.Strings(byName)
		rev := slices.Clone(byTime)
		slices.Reverse(rev)
		for order, w := range map[ListOrder][]string{OrderName: byName, OrderTimeAsc: byTime, OrderTimeDesc: rev} {
			for n := 0; n <= 5; n++ {
				var got []string
				opts := PageOptions{N: n, Order: order}
				for {
					pg, err := repo.Manifests().Page(ctx, opts)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range pg.Manifests {
						if m.Platform == nil || m.Platform.OS != "linux" {
							t.Errorf("manifest without its detail: %+v", m)
						}
						got = append(got, m.Digest.String())
					}
					if pg.Next == "" {
						break
					}
					opts.Last = pg.Next
				}
				if !slices.Equal(got, w) {
					t.Errorf("order %d, n=%d: %v, want %v", order, n, got, w)
				}
			}
		}
	})
}

func TestParseListOrder(t *testing.T) {
	for s, want := range map[string]ListOrder{"": OrderName, "none": OrderName, "timedesc": OrderTimeDesc, "timeasc": OrderTimeAsc} {
		if got, err := ParseListOrder(s); err != nil || got != want {
			t.Errorf("%q = %v, %v", s, got, err)
		}
	}
	if _, err := ParseListOrder("TimeDesc"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad order: %v", err)
	}
}

func TestDeleteRepositoryReport(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		reg := newReg()
		repo := repoOf(t, reg, "team/app")
		a := pushImage(t, repo, "a", 1)
		b := pushImage(t, repo, "b", 1)
		ref := pushReferrer(t, repo, a.desc, "application/x-sig")
		if err := repo.Tags().Set(ctx, "hidden", b.desc.Digest, SetOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Tags().SetAttributes(ctx, "hidden", tag.Patch{ListEnabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		// A lock refuses the delete and leaves everything.
		if _, err := repo.Tags().SetAttributes(ctx, "a", tag.Patch{WriteEnabled: new(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.DeleteRepositoryReport(ctx, "team/app"); !errors.Is(err, ErrLocked) {
			t.Fatalf("locked: %v", err)
		}
		if p, err := repo.Properties(ctx); err != nil || p.ManifestCount != 3 || p.TagCount != 3 {
			t.Fatalf("after a refused delete: %+v, %v", p, err)
		}
		if _, err := repo.Tags().SetAttributes(ctx, "a", tag.Patch{WriteEnabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		rep, err := reg.DeleteRepositoryReport(ctx, "team/app")
		if err != nil {
			t.Fatal(err)
		}
		wantM := []string{a.desc.Digest.String(), b.desc.Digest.String(), ref.Digest.String()}
		sort.Strings(wantM)
		var gotM []string
		for _, d := range rep.Manifests {
			gotM = append(gotM, d.String())
		}
		if !slices.Equal(gotM, wantM) || !slices.Equal(rep.Tags, []string{"a", "b", "hidden"}) {
			t.Errorf("report = %+v, want manifests %v and tags [a b hidden]", rep, wantM)
		}
		if _, err := repo.Properties(ctx); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("after delete: %v", err)
		}
		if _, err := reg.DeleteRepositoryReport(ctx, "team/app"); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("second delete: %v", err)
		}
		if _, err := reg.DeleteRepositoryReport(ctx, "Bad"); !errors.Is(err, ErrNameInvalid) {
			t.Errorf("bad name: %v", err)
		}
	})
}
