package azure_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/azure"
)

// TestTwoStores: an upload one Store's Writer holds is ErrConflict for
// another Store (Resume and Abort), also when a foreign client holds its
// lease; after Close the other Store resumes it with the right size and
// digest and commits it; a reader of one Store keeps reading a blob the
// other deletes, and the blob is gone, snapshots included, once it closes.
func TestTwoStores(t *testing.T) {
	ctx := t.Context()
	c := newContainer(t)
	name := containerName(c.URL())
	opts := []azure.Option{azure.WithPrefix("p"), azure.WithBlockSize(64 << 10)}
	a := open(t, c, opts...)
	b := open(t, containerClient(t, name), opts...)

	data := bytes.Repeat([]byte("0123456789abcdef"), 20_000) // 320 KB
	w, err := a.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:100_000]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Fatalf("Resume on another Store while held: %v, want ErrConflict", err)
	}
	if err := b.Abort(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Fatalf("Abort on another Store while held: %v, want ErrConflict", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A lease taken by a foreign client blocks the upload too.
	lc, err := lease.NewBlobClient(c.NewBlockBlobClient("p/uploads/"+w.ID()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx, 15, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Resume(ctx, w.ID()); !errors.Is(err, blob.ErrConflict) {
		t.Fatalf("Resume while a foreign lease is held: %v, want ErrConflict", err)
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		t.Fatal(err)
	}

	w2, err := b.Resume(ctx, w.ID())
	if err != nil {
		t.Fatalf("Resume on another Store after Close: %v", err)
	}
	if w2.Size() != 100_000 || w2.Digest() != digest.FromBytes(data[:100_000]) {
		t.Fatalf("resumed Size, Digest = %d, %s", w2.Size(), w2.Digest())
	}
	if _, err := w2.Write(data[100_000:]); err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(data)
	if _, err := w2.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatalf("Commit on the second Store: %v", err)
	}
	w2.Close()

	r, err := a.ReaderAt(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reader of the first Store after the second's Delete: %d bytes, %v", len(got), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countBlobs(t, c); n != 0 {
		t.Errorf("%d blobs or snapshots left after the last reader closed", n)
	}
}

// countBlobs counts every blob and snapshot in the container.
func countBlobs(t *testing.T, c *container.Client) int {
	t.Helper()
	n := 0
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Snapshots: true}})
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Segment.BlobItems)
	}
	return n
}

// TestServiceStopped stops Azurite in the middle of an upload: Write and
// Commit fail with ErrUnavailable that wraps the connection error, a Put
// too, nothing becomes visible, and the Store works again once Azurite is
// back.
func TestServiceStopped(t *testing.T) {
	need(t)
	if server.azurite == nil {
		t.Skip("stops the emulator; the tests use " + envURL)
	}
	ctx := context.Background()
	c := newContainer(t)
	s := open(t, c, azure.WithBlockSize(64<<10))
	data := bytes.Repeat([]byte("stopped "), 40_000)
	d := digest.FromBytes(data)
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:100_000]); err != nil {
		t.Fatal(err)
	}

	server.azurite.kill()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := server.azurite.start(); err != nil {
				t.Errorf("restart Azurite: %v", err)
			}
		}
	})
	_, err = w.Write(data[100_000:])
	unavailable(t, "Write", err)
	_, err = w.Commit(ctx, d, int64(len(data)))
	unavailable(t, "Commit", err)
	_ = w.Close()
	_, err = s.Put(ctx, d, int64(len(data)), bytes.NewReader(data))
	unavailable(t, "Put", err)
	_, err = s.Stat(ctx, d)
	unavailable(t, "Stat", err)

	if err := server.azurite.start(); err != nil {
		t.Fatalf("restart Azurite: %v", err)
	}
	restarted = true
	if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after the outage: %v, want ErrNotFound", err)
	}
	if _, err := blob.Put(ctx, s, d, int64(len(data)), bytes.NewReader(data)); err != nil {
		// The restarted emulator may have lost the container (it saves
		// its state lazily): make it again and retry once.
		s = open(t, c, azure.WithBlockSize(64<<10))
		if _, err := blob.Put(ctx, s, d, int64(len(data)), bytes.NewReader(data)); err != nil {
			t.Fatalf("Put after the outage: %v", err)
		}
	}
	if info, err := s.Stat(ctx, d); err != nil || info.Size != int64(len(data)) {
		t.Fatalf("Stat after Put = %+v, %v", info, err)
	}
}

// unavailable fails unless err wraps ErrUnavailable and the refused
// connection behind it.
func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("%s with the service stopped: %v, want ErrUnavailable", what, err)
		return
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("%s with the service stopped: %v, want the connection error as cause", what, err)
	}
}
