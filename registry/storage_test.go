package registry

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	blobmem "github.com/regkit/regkit/blob/memory"
	metamem "github.com/regkit/regkit/registry/meta/memory"
)

// TestBlobsReadOnly: Registry.Blobs reads and lists every committed blob
// but offers no way to write or delete one.
func TestBlobsReadOnly(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(opts ...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		data := []byte("layer bytes")
		desc := putBlob(t, repoOf(t, r, "a"), "x", data)
		view := r.Blobs()
		for name, ok := range map[string]bool{
			"blob.Storage":    is[blob.Storage](view),
			"blob.Ingester":   is[blob.Ingester](view),
			"blob.Deleter":    is[blob.Deleter](view),
			"blob.Putter":     is[blob.Putter](view),
			"blob.Redirector": is[blob.Redirector](view),
		} {
			if ok {
				t.Errorf("Blobs() is a %s", name)
			}
		}
		info, err := view.Stat(ctx, desc.Digest)
		if err != nil || info.Size != int64(len(data)) {
			t.Fatalf("Stat = %+v, %v", info, err)
		}
		ra, err := view.ReaderAt(ctx, desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
		ra.Close()
		if err != nil || string(got) != string(data) {
			t.Fatalf("read %q, %v", got, err)
		}
		n := 0
		if err := view.Walk(ctx, func(blob.Info) error { n++; return nil }); err != nil || n != 1 {
			t.Fatalf("Walk saw %d blobs, %v", n, err)
		}
		if _, err := view.Stat(ctx, digest.FromString("missing")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Stat of a missing blob: %v", err)
		}
	})
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

// redirecting is a blob storage that can redirect.
type redirecting struct{ blob.Storage }

func (redirecting) RedirectURL(_ context.Context, d digest.Digest, _ time.Duration) (string, error) {
	return "https://example.com/" + d.Encoded(), nil
}

// TestBlobsRedirect: the read-only view passes blob.Redirector through when
// the storage has it, which is how the HTTP layer finds it.
func TestBlobsRedirect(t *testing.T) {
	r, err := New(redirecting{blobmem.New()}, metamem.New())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd, ok := r.Blobs().(blob.Redirector)
	if !ok {
		t.Fatal("Blobs() of a redirecting storage is not a blob.Redirector")
	}
	d := digest.FromString("x")
	if u, err := rd.RedirectURL(context.Background(), d, time.Minute); err != nil || u != "https://example.com/"+d.Encoded() {
		t.Fatalf("RedirectURL = %q, %v", u, err)
	}
	if is[blob.Deleter](r.Blobs()) {
		t.Fatal("the redirecting view can delete")
	}
}
