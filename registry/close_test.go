package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/regkit/regkit/blob"
)

// TestCloseUnderPushes: 8 goroutines push manifests into Open(dir) while
// Close is called (twice, concurrently); after reopening, every push that
// returned nil is there and every tag points at its goroutine's last
// acknowledged push. A push refused because the registry closed fails with
// ErrUnavailable and changes nothing. Rounds reuse the directory, so later
// rounds check the earlier ones' pushes too.
func TestCloseUnderPushes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	const pushers = 8
	var acked []digest.Digest
	lastTag := map[string]digest.Digest{}
	for round := range rounds {
		r, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		repo := repoOf(t, r, "close/app")
		cfg := putBlob(t, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
		layer := putBlob(t, repo, ocispec.MediaTypeImageLayerGzip, []byte("layer"))
		var wg sync.WaitGroup
		results := make([][]digest.Digest, pushers)
		failures := make([]error, pushers)
		for g := range pushers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tg := fmt.Sprintf("g%d", g)
				for i := 0; ; i++ {
					b, _ := json.Marshal(ocispec.Manifest{
						Versioned:   specs.Versioned{SchemaVersion: 2},
						MediaType:   ocispec.MediaTypeImageManifest,
						Config:      cfg,
						Layers:      []ocispec.Descriptor{layer},
						Annotations: map[string]string{"push": fmt.Sprintf("%d/%d/%d", round, g, i)},
					})
					desc, err := repo.Manifests().Put(ctx, b, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tg})
					if err != nil {
						failures[g] = err
						return
					}
					results[g] = append(results[g], desc.Digest)
				}
			}()
		}
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		closeErrs := make([]error, 2)
		var cwg sync.WaitGroup
		for i := range closeErrs {
			cwg.Add(1)
			go func() { defer cwg.Done(); closeErrs[i] = r.Close() }()
		}
		cwg.Wait()
		wg.Wait()
		for i, err := range closeErrs {
			if err != nil {
				t.Fatalf("round %d: Close %d: %v", round, i, err)
			}
		}
		if err := r.Health(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("round %d: Health after Close = %v, want ErrUnavailable", round, err)
		}
		if _, err := repo.Manifests().Get(ctx, "g0", GetOptions{}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("round %d: Get after Close = %v, want ErrUnavailable", round, err)
		}
		n := 0
		for g := range pushers {
			if !errors.Is(failures[g], ErrUnavailable) {
				t.Fatalf("round %d: pusher %d stopped with %v, want ErrUnavailable", round, g, failures[g])
			}
			acked = append(acked, results[g]...)
			if k := len(results[g]); k > 0 {
				lastTag[fmt.Sprintf("g%d", g)] = results[g][k-1]
			}
			n += len(results[g])
		}
		t.Logf("round %d: %d pushes acknowledged", round, n)

		r, err = Open(dir)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		repo = repoOf(t, r, "close/app")
		lost := 0
		for _, d := range acked {
			if _, err := repo.Manifests().Stat(ctx, d.String(), GetOptions{}); err != nil {
				if lost++; lost <= 3 {
					t.Errorf("round %d: acknowledged push %s: %v", round, d, err)
				}
			}
		}
		for tg, d := range lastTag {
			if desc, err := repo.Tags().Resolve(ctx, tg); err != nil || desc.Digest != d {
				t.Errorf("round %d: tag %s = %s, %v; want its last acknowledged push %s", round, tg, desc.Digest, err, d)
			}
		}
		if lost > 0 {
			t.Fatalf("round %d: %d of %d acknowledged pushes lost", round, lost, len(acked))
		}
		if rep, err := r.Check(ctx); err != nil || !rep.OK() {
			t.Fatalf("round %d: check: %v %v", round, err, rep)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClosedOperations: after Close every operation fails with
// ErrUnavailable, through every entry point, and Health says so.
func TestClosedOperations(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "a")
		img := pushImage(t, repo, "v1", 1)
		u, err := repo.Blobs().StartUpload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Health(ctx); err != nil {
			t.Fatalf("Health before Close: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for name, op := range map[string]func() error{
			"Health":            func() error { return r.Health(ctx) },
			"Repository":        func() error { _, err := r.Repository(ctx, "a"); return err },
			"Repositories":      func() error { _, err := r.Repositories(ctx, "", 0); return err },
			"DeleteRepository":  func() error { return r.DeleteRepository(ctx, "a") },
			"Collect":           func() error { _, err := r.Collect(ctx, CollectOptions{}); return err },
			"Check":             func() error { _, err := r.Check(ctx); return err },
			"Blobs().Stat":      func() error { _, err := r.Blobs().Stat(ctx, img.config.Digest); return err },
			"Blobs().Walk":      func() error { return r.Blobs().Walk(ctx, func(blob.Info) error { return nil }) },
			"Properties":        func() error { _, err := repo.Properties(ctx); return err },
			"Blobs.Stat":        func() error { _, err := repo.Blobs().Stat(ctx, img.config.Digest); return err },
			"Blobs.Open":        func() error { _, err := repo.Blobs().Open(ctx, img.config.Digest); return err },
			"Blobs.Put":         func() error { _, err := repo.Blobs().Put(ctx, img.config.Digest, -1, bytesReader(nil)); return err },
			"Blobs.StartUpload": func() error { _, err := repo.Blobs().StartUpload(ctx); return err },
			"Upload.Write":      func() error { _, err := u.Write([]byte("x")); return err },
			"Upload.Commit":     func() error { _, err := u.Commit(ctx, img.config.Digest, -1); return err },
			"Manifests.Get":     func() error { _, err := repo.Manifests().Get(ctx, "v1", GetOptions{}); return err },
			"Manifests.Put":     func() error { _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{}); return err },
			"Manifests.Delete":  func() error { return repo.Manifests().Delete(ctx, img.desc.Digest) },
			"Manifests.List":    func() error { _, err := repo.Manifests().List(ctx, ListOptions{}); return err },
			"Tags.List":         func() error { _, err := repo.Tags().List(ctx, ListOptions{}); return err },
			"Tags.Resolve":      func() error { _, err := repo.Tags().Resolve(ctx, "v1"); return err },
			"Tags.Set":          func() error { return repo.Tags().Set(ctx, "v2", img.desc.Digest, SetOptions{}) },
			"Tags.Untag":        func() error { return repo.Tags().Untag(ctx, "v1") },
		} {
			if err := op(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s after Close = %v, want ErrUnavailable", name, err)
			}
		}
		if err := u.Close(); err != nil {
			t.Errorf("Upload.Close after Close: %v", err)
		}
	})
}

// blockingReader yields one byte, then blocks until release is closed.
type blockingReader struct {
	started chan struct{}
	release chan struct{}
	sent    bool
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		close(b.started)
		p[0] = 'x'
		return 1, nil
	}
	<-b.release
	return 0, io.EOF
}

// TestCloseWaits: Close waits for an operation in flight (an upload
// reading a slow body) before it closes the stores; while it waits, new
// operations fail with ErrUnavailable and Health reports the registry
// closing; the operation in flight completes normally.
func TestCloseWaits(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "a")
		u, err := repo.Blobs().StartUpload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body := &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
		copied := make(chan error, 1)
		go func() {
			_, err := u.ReadFrom(body)
			copied <- err
		}()
		<-body.started
		closed := make(chan error, 1)
		go func() { closed <- r.Close() }()
		deadline := time.Now().Add(5 * time.Second)
		for r.Health(ctx) == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if err := r.Health(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Health while closing = %v", err)
		}
		if _, err := repo.Tags().List(ctx, ListOptions{}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("a new operation while closing = %v, want ErrUnavailable", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) while an upload was in flight", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(body.release)
		if err := <-copied; err != nil {
			t.Fatalf("the upload in flight failed: %v", err)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if u.Size() != 1 {
			t.Fatalf("upload holds %d bytes, want 1", u.Size())
		}
		u.Close()
	})
}
