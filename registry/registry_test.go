package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPushPull(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "ml-team/model-server")
		img := pushImage(t, repo, "v1", 3)

		for _, ref := range []string{"v1", img.desc.Digest.String()} {
			got, err := repo.Manifests().Get(ctx, ref, GetOptions{})
			if err != nil {
				t.Fatalf("get %s: %v", ref, err)
			}
			if !bytes.Equal(got.Bytes, img.bytes) || got.Descriptor.Digest != img.desc.Digest || got.Descriptor.MediaType != ocispec.MediaTypeImageManifest {
				t.Fatalf("get %s: wrong manifest %+v", ref, got.Descriptor)
			}
		}
		for _, l := range append(img.layers, img.config) {
			ra, err := repo.Blobs().Open(ctx, l.Digest)
			if err != nil {
				t.Fatalf("open blob: %v", err)
			}
			b, _ := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
			ra.Close()
			if digest.FromBytes(b) != l.Digest {
				t.Fatal("blob content differs")
			}
		}
		props, err := repo.Properties(ctx)
		if err != nil || props.ManifestCount != 1 || props.TagCount != 1 {
			t.Fatalf("properties = %+v, %v", props, err)
		}
		mp, err := repo.Manifests().Properties(ctx, img.desc.Digest)
		if err != nil || mp.Platform == nil || mp.Platform.OS != "linux" || mp.Platform.Architecture != "amd64" || len(mp.Tags) != 1 {
			t.Fatalf("manifest properties = %+v, %v", mp, err)
		}
		names, err := r.Repositories(ctx, "", 0)
		if err != nil || len(names) != 1 || names[0] != "ml-team/model-server" {
			t.Fatalf("catalog = %v, %v", names, err)
		}
		if rep, err := r.Check(ctx); err != nil || !rep.OK() {
			t.Fatalf("check: %v %v", err, rep.Problems)
		}
	})
}

func TestPushIdempotentAndMissingReferences(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	repo := repoOf(t, r, "app")
	img := pushImage(t, repo, "latest", 2)
	if _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: "latest"}); err != nil {
		t.Fatalf("re-push: %v", err)
	}
	// A manifest whose blobs live in another repository is refused.
	other := repoOf(t, r, "other")
	_, err := other.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest})
	if !errors.Is(err, ErrManifestBlobUnknown) || !errors.Is(err, ErrPrecondition) {
		t.Fatalf("push with unlinked blobs: %v", err)
	}
	// Pushed by a digest the bytes do not hash to.
	_, err = repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("x")})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("digest mismatch: %v", err)
	}
	// sha512 digest push.
	d512 := digest.SHA512.FromBytes(img.bytes)
	if _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Digest: d512}); err != nil {
		t.Fatalf("sha512 push: %v", err)
	}
	if _, err := repo.Manifests().Get(ctx, d512.String(), GetOptions{}); err != nil {
		t.Fatalf("sha512 get: %v", err)
	}
	if rep, _ := r.Check(ctx); !rep.OK() {
		t.Fatal(rep.Problems)
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	for _, name := range []string{"", "UPPER", "a//b", "/a", "a/", "a..b", "-a", "a/../b", ".", "a:b", strings.Repeat("a", 256)} {
		if _, err := r.Repository(ctx, name); !errors.Is(err, ErrNameInvalid) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Repository(%q) = %v, want ErrNameInvalid", name, err)
		}
	}
	for _, name := range []string{"a", "a/b/c", "a.b_c__d--e", "0", strings.Repeat("a", 255), "ml-team/model-server"} {
		if _, err := r.Repository(ctx, name); err != nil {
			t.Errorf("Repository(%q) = %v", name, err)
		}
	}
	repo := repoOf(t, r, "app")
	for _, d := range []digest.Digest{"", "sha256:", "sha256:xyz", "md5:abc", digest.Digest("sha256:" + strings.Repeat("A", 64)), "nocolon"} {
		if _, err := repo.Blobs().Stat(ctx, d); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want invalid", d, err)
		}
		if err := repo.Manifests().Delete(ctx, d); err == nil {
			t.Errorf("Delete(%q) accepted", d)
		}
	}
	for _, ref := range []string{"", "-bad", "sha256:zz", strings.Repeat("t", 129)} {
		if _, err := repo.Manifests().Get(ctx, ref, GetOptions{}); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want invalid", ref, err)
		}
	}
	if _, err := repo.Manifests().Put(ctx, []byte("{not json"), PutOptions{MediaType: ocispec.MediaTypeImageManifest}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad manifest: %v", err)
	}
	if _, err := repo.Manifests().Get(ctx, "missing", GetOptions{}); !errors.Is(err, ErrManifestUnknown) {
		t.Errorf("missing tag: %v", err)
	}
}

func TestBlobVisibilityAndMount(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		a, b := repoOf(t, r, "a"), repoOf(t, r, "b")
		desc := putBlob(t, a, "x", []byte("shared bytes"))
		if _, err := b.Blobs().Stat(ctx, desc.Digest); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("b sees a's blob: %v", err)
		}
		if _, err := b.Blobs().Mount(ctx, desc.Digest, "c"); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("mount from repo without blob: %v", err)
		}
		info, err := b.Blobs().Mount(ctx, desc.Digest, "a")
		if err != nil || info.Size != desc.Size {
			t.Fatalf("mount: %+v %v", info, err)
		}
		if _, err := b.Blobs().Stat(ctx, desc.Digest); err != nil {
			t.Fatalf("after mount: %v", err)
		}
		if err := a.Blobs().Delete(ctx, desc.Digest); err != nil {
			t.Fatalf("unlink: %v", err)
		}
		if _, err := a.Blobs().Stat(ctx, desc.Digest); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("after unlink: %v", err)
		}
		if _, err := b.Blobs().Stat(ctx, desc.Digest); err != nil {
			t.Fatalf("b lost blob: %v", err)
		}
		// A blob a manifest of the repository uses cannot be unlinked.
		img := pushImage(t, b, "t", 1)
		if err := b.Blobs().Delete(ctx, img.layers[0].Digest); !errors.Is(err, ErrBlobReferenced) {
			t.Fatalf("unlink referenced: %v", err)
		}
	})
}

func TestUploadSessions(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "up")
		data := randomBytes(t, 100_000)
		u, err := repo.Blobs().StartUpload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := u.ID()
		u.Write(data[:40_000])
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := repoOf(t, r, "other").Blobs().ResumeUpload(ctx, id); !errors.Is(err, ErrBlobUploadUnknown) {
			t.Fatalf("resume from other repo: %v", err)
		}
		u, err = repo.Blobs().ResumeUpload(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Size() != 40_000 {
			t.Fatalf("size after resume = %d", u.Size())
		}
		u.Write(data[40_000:])
		if _, err := u.Commit(ctx, digest.FromString("wrong"), int64(len(data))); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("wrong digest: %v", err)
		}
		if _, err := u.Commit(ctx, digest.FromBytes(data), int64(len(data))+1); !errors.Is(err, ErrSizeMismatch) {
			t.Fatalf("wrong size: %v", err)
		}
		if _, err := u.Commit(ctx, digest.FromBytes(data), int64(len(data))); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if _, err := repo.Blobs().Stat(ctx, digest.FromBytes(data)); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Blobs().ResumeUpload(ctx, id); !errors.Is(err, ErrBlobUploadUnknown) {
			t.Fatalf("resume after commit: %v", err)
		}
		u2, _ := repo.Blobs().StartUpload(ctx)
		u2.Close()
		if err := repo.Blobs().CancelUpload(ctx, u2.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Blobs().ResumeUpload(ctx, u2.ID()); !errors.Is(err, ErrBlobUploadUnknown) {
			t.Fatalf("resume after cancel: %v", err)
		}
	})
}

func TestTagListPagination(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	repo := repoOf(t, r, "many")
	img := pushImage(t, repo, "", 1)
	for i := 0; i < 250; i++ {
		if err := repo.Tags().Set(ctx, fmt.Sprintf("t%03d", i), img.desc.Digest, SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	last := ""
	for {
		page, err := repo.Tags().List(ctx, ListOptions{Last: last, N: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		last = page[len(page)-1]
	}
	if len(all) != 250 || all[0] != "t000" || all[249] != "t249" {
		t.Fatalf("paged %d tags", len(all))
	}
	mp, _ := repo.Manifests().Properties(ctx, img.desc.Digest)
	if len(mp.Tags) != 250 || !mp.UntaggedSince.IsZero() {
		t.Fatalf("manifest tags = %d, untagged since %v", len(mp.Tags), mp.UntaggedSince)
	}
}

func TestUntagAndMove(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	repo := repoOf(t, r, "app")
	one := pushImage(t, repo, "latest", 1)
	two := pushImage(t, repo, "latest", 1)
	p1, _ := repo.Manifests().Properties(ctx, one.desc.Digest)
	if p1.UntaggedSince.IsZero() || len(p1.Tags) != 0 {
		t.Fatalf("overwritten manifest should be untagged: %+v", p1)
	}
	if err := repo.Tags().Set(ctx, "latest", one.desc.Digest, SetOptions{IfMatch: one.desc.Digest}); !errors.Is(err, ErrConflict) {
		t.Fatalf("CAS with stale digest: %v", err)
	}
	if err := repo.Tags().Set(ctx, "latest", one.desc.Digest, SetOptions{IfMatch: two.desc.Digest}); err != nil {
		t.Fatalf("CAS: %v", err)
	}
	if err := repo.Tags().Untag(ctx, "latest"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Tags().Resolve(ctx, "latest"); !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("resolve after untag: %v", err)
	}
	if _, err := repo.Manifests().Get(ctx, one.desc.Digest.String(), GetOptions{}); err != nil {
		t.Fatalf("untag removed manifest: %v", err)
	}
	list, _ := repo.Manifests().List(ctx, ListOptions{})
	if len(list) != 2 {
		t.Fatalf("list-metadata has %d manifests, want 2 untagged", len(list))
	}
	if rep, _ := r.Check(ctx); !rep.OK() {
		t.Fatal(rep.Problems)
	}
}

func TestMaxUploads(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory(WithMaxUploads(2))
	defer r.Close()
	repo := repoOf(t, r, "app")
	var ids []string
	for i := 0; i < 2; i++ {
		u, err := repo.Blobs().StartUpload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u.Close()
		ids = append(ids, u.ID())
	}
	if _, err := repo.Blobs().StartUpload(ctx); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("third upload: %v", err)
	}
	if err := repo.Blobs().CancelUpload(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Blobs().StartUpload(ctx); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestBlobCache(t *testing.T) {
	ctx := context.Background()
	for _, cache := range []int64{0, 1 << 20} {
		r, _ := NewMemory(WithBlobCache(cache))
		repo := repoOf(t, r, "app")
		data := []byte("small config blob")
		desc := putBlob(t, repo, "x", data)
		read := func() ([]byte, error) {
			ra, err := repo.Blobs().Open(ctx, desc.Digest)
			if err != nil {
				return nil, err
			}
			defer ra.Close()
			return io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
		}
		if b, err := read(); err != nil || !bytes.Equal(b, data) {
			t.Fatalf("cache %d: first read %q, %v", cache, b, err)
		}
		// Remove the bytes behind the registry's back: only a cached copy
		// can still answer.
		if err := r.blobs.Delete(ctx, desc.Digest); err != nil {
			t.Fatal(err)
		}
		b, err := read()
		if cache > 0 && (err != nil || !bytes.Equal(b, data)) {
			t.Fatalf("cached read %q, %v", b, err)
		}
		if cache == 0 && !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("uncached read after delete: %v", err)
		}
		// The link still governs visibility.
		if _, err := repoOf(t, r, "other").Blobs().Open(ctx, desc.Digest); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("cache leaked across repositories: %v", err)
		}
		r.Close()
	}
}
