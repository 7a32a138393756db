package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	blobmem "github.com/regkit/regkit/blob/memory"
	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/meta"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestSentinels: every exported error is declared as an error (go doc shows
// no internal type) and belongs to exactly the class it documents.
func TestSentinels(t *testing.T) {
	for _, c := range []struct {
		err   *error
		class error
	}{
		{&ErrNameInvalid, ErrInvalid}, {&ErrNameUnknown, ErrNotFound},
		{&ErrBlobUnknown, ErrNotFound}, {&ErrBlobUploadUnknown, ErrNotFound},
		{&ErrManifestUnknown, ErrNotFound}, {&ErrManifestBlobUnknown, ErrPrecondition},
		{&ErrManifestChildUnknown, ErrPrecondition}, {&ErrTagInvalid, ErrInvalid},
		{&ErrBlobReferenced, ErrPrecondition}, {&ErrManifestReferenced, ErrPrecondition},
		{&ErrCollecting, ErrConflict},
		{&ErrNotFound, ErrNotFound}, {&ErrAlreadyExists, ErrAlreadyExists}, {&ErrInvalid, ErrInvalid},
		{&ErrDigestMismatch, ErrDigestMismatch}, {&ErrSizeMismatch, ErrSizeMismatch},
		{&ErrTooLarge, ErrTooLarge}, {&ErrUnsupported, ErrUnsupported}, {&ErrLocked, ErrLocked},
		{&ErrConflict, ErrConflict}, {&ErrPrecondition, ErrPrecondition}, {&ErrUnavailable, ErrUnavailable},
	} {
		if got := errdef.Class(*c.err); got != c.class {
			t.Errorf("%v is in class %v, want %v", *c.err, got, c.class)
		}
	}
}

// failingStore fails every Update with err once fail is set.
type failingStore struct {
	meta.Store
	fail atomic.Bool
	err  error
}

func (s *failingStore) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if s.fail.Load() {
		return s.err
	}
	return s.Store.Update(ctx, fn)
}

// failingBlobs fails every new upload with err once fail is set.
type failingBlobs struct {
	blob.Storage
	fail atomic.Bool
	err  error
}

func (s *failingBlobs) Writer(ctx context.Context, opts ...blob.WriterOption) (blob.Writer, error) {
	if s.fail.Load() {
		return nil, s.err
	}
	return s.Storage.Writer(ctx, opts...)
}

// TestErrorCauses: an operating-system error keeps its identity through the
// registry (errors.Is(err, syscall.ENOSPC) holds), beside its class.
func TestErrorCauses(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "registry")); !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Open under a file = %v, want ErrUnavailable and ENOTDIR", err)
	}

	store := &failingStore{Store: metamem.New(), err: fmt.Errorf("meta: flush: %w: %w", meta.ErrUnavailable, syscall.EIO)}
	noSpace := fmt.Errorf("blob: write: %w: %w", blob.ErrUnavailable, syscall.ENOSPC)
	blobs := &failingBlobs{Storage: blobmem.New(), err: noSpace}
	r, err := New(blobs, store)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	repo := repoOf(t, r, "a")
	img := pushImage(t, repo, "v1", 1)
	blobs.fail.Store(true)
	if _, err := repo.Blobs().StartUpload(ctx); !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("StartUpload on a full disk = %v", err)
	}
	store.fail.Store(true)
	if err := repo.Tags().Set(ctx, "v2", img.desc.Digest, SetOptions{}); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("Tags.Set on a failing store = %v", err)
	}
	b := []byte("more")
	if _, err := repo.Blobs().Put(ctx, digest.FromBytes(b), int64(len(b)), io.NopCloser(bytesReader(b))); !errors.Is(err, syscall.EIO) {
		t.Errorf("Blobs.Put on a failing store = %v", err)
	}
	if err := storePanicked(syscall.EIO); !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("a store's panic with an error = %v", err)
	}
	if err := storePanicked("boom"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a store's panic = %v", err)
	}
}
