package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCollect(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		r := newReg(WithClock(clk.now), WithGracePeriod(time.Hour), WithUploadTTL(2*time.Hour))
		a, b := repoOf(t, r, "a"), repoOf(t, r, "b")
		img := pushImage(t, a, "v1", 2)
		shared := img.layers[0]
		if _, err := b.Blobs().Mount(ctx, shared.Digest, "a"); err != nil {
			t.Fatal(err)
		}
		other := pushImage(t, b, "keep", 1)
		// b's manifest also uses the shared layer.
		_ = other
		if err := a.Manifests().Delete(ctx, img.desc.Digest); err != nil {
			t.Fatal(err)
		}
		st, err := r.Collect(ctx, CollectOptions{SkipSweep: true})
		if err != nil || st.BlobsDeleted != 0 {
			t.Fatalf("collect inside grace: %+v %v", st, err)
		}
		clk.add(2 * time.Hour)
		st, err = r.Collect(ctx, CollectOptions{DryRun: true, SkipSweep: true})
		if err != nil || st.BlobsDeleted == 0 {
			t.Fatalf("dry run: %+v %v", st, err)
		}
		if _, err := r.Blobs().Stat(ctx, img.layers[1].Digest); err != nil {
			t.Fatalf("dry run deleted: %v", err)
		}
		st, err = r.Collect(ctx, CollectOptions{SkipSweep: true})
		if err != nil {
			t.Fatal(err)
		}
		// Layer 1 and the config were only a's; the shared layer was mounted
		// into b, unreferenced there, so it goes too; b's own image stays.
		for _, d := range []digest.Digest{img.layers[1].Digest, img.config.Digest} {
			if _, err := r.Blobs().Stat(ctx, d); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unreferenced blob %s survived: %v (stats %+v)", d, err, st)
			}
		}
		for _, d := range append(other.layers, other.config) {
			if _, err := b.Blobs().Stat(ctx, d.Digest); err != nil {
				t.Fatalf("referenced blob collected: %v", err)
			}
		}
		if rep, _ := r.Check(ctx); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

func TestCollectUploadsAndOrphans(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	r, _ := Open(t.TempDir(), WithClock(clk.now), WithGracePeriod(time.Minute), WithUploadTTL(time.Minute))
	defer r.Close()
	repo := repoOf(t, r, "a")
	u, _ := repo.Blobs().StartUpload(ctx)
	u.Write([]byte("abandoned"))
	u.Close()
	// A blob committed straight to storage, as a crash between storage
	// commit and metadata would leave it.
	orphan := []byte("orphan")
	if _, err := blob.Put(ctx, r.blobs, digest.FromBytes(orphan), int64(len(orphan)), bytesReader(orphan)); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Hour)
	st, err := r.Collect(ctx, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.UploadsRemoved != 1 || st.Orphans != 1 || st.BlobsDeleted != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if _, err := repo.Blobs().ResumeUpload(ctx, u.ID()); !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("abandoned upload survived: %v", err)
	}
}

// TestGCStress pushes, deletes and collects concurrently, then proves every
// tagged image whole and no unreferenced blob past its grace period left.
func TestGCStress(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		grace := time.Second
		r := newReg(WithGracePeriod(grace))
		dur := 2 * time.Second
		if testing.Short() {
			dur = 300 * time.Millisecond
		}
		deadline := time.Now().Add(dur)
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				repo := repoOf(t, r, fmt.Sprintf("stress/r%d", w%2))
				for i := 0; time.Now().Before(deadline); i++ {
					tg := fmt.Sprintf("w%d-t%d", w, rng.IntN(4))
					img := buildImage(t, repo, 1+rng.IntN(3), nil)
					_, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: tg})
					if errors.Is(err, ErrManifestBlobUnknown) {
						// The machine stalled past the grace period between
						// the blob uploads and the push: collection was
						// entitled to take the blobs. Push again.
						continue
					}
					if err != nil {
						errc <- err
						return
					}
					if rng.IntN(3) == 0 {
						err := repo.Manifests().Delete(ctx, img.desc.Digest)
						if err != nil && !errors.Is(err, ErrNotFound) {
							errc <- err
							return
						}
					}
				}
			}(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
					errc <- err
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		rep, err := r.Check(ctx)
		if err != nil || !rep.OK() {
			t.Fatalf("check: %v %v", err, rep.Problems)
		}
		// Every tag resolves to a whole image.
		for _, name := range []string{"stress/r0", "stress/r1"} {
			repo := repoOf(t, r, name)
			tags, _ := repo.Tags().List(ctx, ListOptions{})
			for _, tg := range tags {
				m, err := repo.Manifests().Get(ctx, tg, GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				p, _ := repo.Manifests().Properties(ctx, m.Descriptor.Digest)
				_ = p
			}
		}
		// After the grace period, collection leaves only referenced blobs.
		time.Sleep(2 * grace)
		if _, err := r.Collect(ctx, CollectOptions{}); err != nil {
			t.Fatal(err)
		}
		referenced := map[digest.Digest]bool{}
		for _, name := range []string{"stress/r0", "stress/r1"} {
			ms, _ := repoOf(t, r, name).Manifests().List(ctx, ListOptions{})
			for _, mp := range ms {
				m, err := repoOf(t, r, name).Manifests().Get(ctx, mp.Digest.String(), GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range blobsOf(t, m.Bytes) {
					referenced[d] = true
					if _, err := repoOf(t, r, name).Blobs().Stat(ctx, d); err != nil {
						t.Fatalf("blob %s of %s missing: %v", d, mp.Digest, err)
					}
				}
			}
		}
		err = r.Blobs().Walk(ctx, func(info blob.Info) error {
			if !referenced[info.Digest] {
				return fmt.Errorf("unreferenced blob %s remains after grace", info.Digest)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
