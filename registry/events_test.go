package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/tag"
)

func TestEventsInCommitOrder(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var got []Event
	release := make(chan struct{})
	slow := func(ev Event) {
		<-release // a stuck subscriber must not stall writers
	}
	r, _ := NewMemory(WithSubscriber(func(ev Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}), WithSubscriber(slow))
	repo := repoOf(t, r, "app")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				pushImage(t, repo, fmt.Sprintf("w%d", w), 1)
			}
		}(w)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writers stalled behind a slow subscriber")
	}
	img := pushImage(t, repo, "last", 1)
	if err := repo.Tags().Untag(ctx, "last"); err != nil {
		t.Fatal(err)
	}
	if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
		t.Fatal(err)
	}
	close(release)
	r.Close() // delivers what is queued
	mu.Lock()
	defer mu.Unlock()
	for i, ev := range got {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: not in commit order", i, ev.Seq)
		}
	}
	n := len(got)
	if n < 2 || got[n-2].Action != ActionUntag || got[n-1].Action != ActionDelete {
		tail := got[max(0, n-4):]
		t.Fatalf("tail of events = %+v", tail)
	}
	pushes := 0
	for _, ev := range got {
		if ev.Action == ActionPush {
			pushes++
		}
	}
	if pushes != 41 {
		t.Fatalf("%d push events, want 41", pushes)
	}
}

// TestConcurrentTagPushes: two pushes racing for one tag leave the tag on
// exactly one of them and both manifests stored.
func TestConcurrentTagPushes(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "race")
		for round := 0; round < 20; round++ {
			a := buildImage(t, repo, 1, map[string]string{"n": "a"})
			b := buildImage(t, repo, 1, map[string]string{"n": "b"})
			var wg sync.WaitGroup
			for _, img := range []image{a, b} {
				wg.Add(1)
				go func(img image) {
					defer wg.Done()
					if _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: "hot"}); err != nil {
						t.Error(err)
					}
				}(img)
			}
			wg.Wait()
			got, err := repo.Tags().Resolve(ctx, "hot")
			if err != nil || got.Digest != a.desc.Digest && got.Digest != b.desc.Digest {
				t.Fatalf("tag = %v, %v", got.Digest, err)
			}
			for _, img := range []image{a, b} {
				if _, err := repo.Manifests().Get(ctx, img.desc.Digest.String(), GetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if rep, _ := r.Check(ctx); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

// TestGroupCommitIsolation: concurrent writes share transactions, yet a
// refused write fails alone and every accepted one lands.
func TestGroupCommitIsolation(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "batch")
		pushImage(t, repo, "locked", 1)
		no := false
		if _, err := repo.Tags().SetAttributes(ctx, "locked", tag.Patch{WriteEnabled: &no}); err != nil {
			t.Fatal(err)
		}
		imgs := make([]image, 32)
		for i := range imgs {
			imgs[i] = buildImage(t, repo, 1, map[string]string{"i": fmt.Sprint(i)})
		}
		errs := make([]error, len(imgs))
		var wg sync.WaitGroup
		for i := range imgs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				tg := fmt.Sprintf("ok%d", i)
				if i%4 == 0 {
					tg = "locked"
				}
				_, errs[i] = repo.Manifests().Put(ctx, imgs[i].bytes, PutOptions{MediaType: imgs[i].desc.MediaType, Tag: tg})
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if i%4 == 0 {
				if !errors.Is(err, ErrLocked) {
					t.Fatalf("push %d to the locked tag: %v", i, err)
				}
				if _, err := repo.Manifests().Get(ctx, imgs[i].desc.Digest.String(), GetOptions{}); !errors.Is(err, ErrManifestUnknown) {
					t.Fatalf("refused push %d left its manifest: %v", i, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("push %d: %v", i, err)
			}
			if d, err := repo.Tags().Resolve(ctx, fmt.Sprintf("ok%d", i)); err != nil || d.Digest != imgs[i].desc.Digest {
				t.Fatalf("tag ok%d = %v, %v", i, d.Digest, err)
			}
		}
		if rep, _ := r.Check(ctx); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}
