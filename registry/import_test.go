package registry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"

	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
	"github.com/regkit/regkit/tag"
)

// TestImportBetweenRegistries covers ACR's rules between two in-process
// registries: default tag, referrers on request, existing tags, untagged
// imports by digest, links instead of transfers, and locks.
func TestImportBetweenRegistries(t *testing.T) {
	ctx := context.Background()
	src := repoOf(t, newMemReg(t), "lib/app").Target()
	idx, sig := multiArch(t, src, "v1")
	dstReg := newMemReg(t)
	dst := repoOf(t, dstReg, "mirror/app")

	res, err := dstReg.Import(ctx, src, "v1", "mirror/app", registry.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag != "v1" || res.Descriptor.Digest != idx.Digest || res.Manifests != 3 || res.Blobs != 5 || res.BlobsTransferred != 5 || res.Referrers != 0 {
		t.Fatalf("first import: %+v", res)
	}
	sameGraph(t, src, dst.Target(), idx)
	if refs, _ := dst.Manifests().Referrers(ctx, idx.Digest, ""); len(refs) != 0 {
		t.Fatalf("referrers copied without being asked: %v", refs)
	}

	t.Run("existing tag fails before copying", func(t *testing.T) {
		other := pushImage(t, src, "linux/amd64", []byte("another layer"))
		tagIn(t, src, other, "v2")
		_, err := dstReg.Import(ctx, src, "v2", "mirror/app:v1", registry.ImportOptions{})
		if !errors.Is(err, registry.ErrTagExists) || !errors.Is(err, registry.ErrAlreadyExists) {
			t.Fatalf("import onto an existing tag: %v", err)
		}
		if n := manifestCount(t, dst); n != 3 {
			t.Fatalf("%d manifests after a refused import, want 3", n)
		}
	})
	t.Run("forced with referrers", func(t *testing.T) {
		res, err := dstReg.Import(ctx, src, "v1", "mirror/app", registry.ImportOptions{Force: true, Referrers: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Referrers != 1 || res.BlobsPresent != 5 || res.BlobsTransferred != 2 || res.ManifestsStored != 1 {
			t.Fatalf("forced import with referrers: %+v", res)
		}
		refs, _ := dst.Manifests().Referrers(ctx, idx.Digest, "")
		if len(refs) != 1 || refs[0].Digest != sig.Digest {
			t.Fatalf("referrers = %v", refs)
		}
	})
	t.Run("untagged by digest links", func(t *testing.T) {
		res, err := dstReg.Import(ctx, src, idx.Digest.String(), "other/app", registry.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tag != "" || res.BlobsLinked != 5 || res.BlobsTransferred != 0 {
			t.Fatalf("untagged import: %+v", res)
		}
		tags, _ := repoOf(t, dstReg, "other/app").Tags().List(ctx, registry.ListOptions{})
		if len(tags) != 0 {
			t.Fatalf("untagged import left tags %v", tags)
		}
	})
	t.Run("locked tag refused even forced", func(t *testing.T) {
		f := false
		if _, err := dst.Tags().SetAttributes(ctx, "v1", tag.Patch{WriteEnabled: &f}); err != nil {
			t.Fatal(err)
		}
		before := manifestCount(t, dst)
		_, err := dstReg.Import(ctx, src, "v2", "mirror/app:v1", registry.ImportOptions{Force: true})
		if !errors.Is(err, registry.ErrLocked) {
			t.Fatalf("forced import onto a locked tag: %v", err)
		}
		if n := manifestCount(t, dst); n != before {
			t.Fatalf("refused import stored %d manifests", n-before)
		}
	})
	t.Run("bad target", func(t *testing.T) {
		for _, target := range []string{"Upper/case", "app@sha256:00", "app:bad tag", ""} {
			if _, err := dstReg.Import(ctx, src, "v1", target, registry.ImportOptions{}); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("target %q: %v", target, err)
			}
		}
		if _, err := dstReg.Import(ctx, src, "nope", "x", registry.ImportOptions{}); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("missing source tag: %v", err)
		}
	})
}

// TestImportPlatforms selects children of a three-platform index.
func TestImportPlatforms(t *testing.T) {
	ctx := context.Background()
	src := repoOf(t, newMemReg(t), "lib/app").Target()
	amd := pushImage(t, src, "linux/amd64", []byte("amd"))
	arm := pushImage(t, src, "linux/arm64", []byte("arm"))
	s390 := pushImage(t, src, "linux/s390x", []byte("s390x"))
	idx := pushIndex(t, src, amd, arm, s390)
	tagIn(t, src, idx, "v1")
	reg := newMemReg(t)
	p := func(s string) ocispec.Platform {
		pl, err := manifest.ParsePlatform(s)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}

	res, err := reg.Import(ctx, src, "v1", "one:v1", registry.ImportOptions{Platforms: []ocispec.Platform{p("linux/arm64")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != arm.Digest || res.Manifests != 1 || res.Blobs != 2 {
		t.Fatalf("one platform: %+v", res)
	}
	res, err = reg.Import(ctx, src, "v1", "two:v1", registry.ImportOptions{Platforms: []ocispec.Platform{p("linux/arm64"), p("linux/amd64")}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := repoOf(t, reg, "two").Manifests().Get(ctx, "v1", registry.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := manifest.Parse(m.Descriptor.MediaType, m.Bytes, nil)
	if err != nil || len(parsed.Index().Manifests) != 2 || res.Descriptor.Digest == idx.Digest || res.Manifests != 3 {
		t.Fatalf("two platforms: %+v, %v", res, err)
	}
	if _, err := reg.Import(ctx, src, "v1", "none", registry.ImportOptions{Platforms: []ocispec.Platform{p("windows/amd64")}}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("no matching platform: %v", err)
	}
}

// TestImportFromLayout imports from a layout folder oras-go wrote and from a
// tar archive Export wrote.
func TestImportFromLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, sig := multiArch(t, store, "1.0")

	layout, err := registry.OpenLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := newMemReg(t)
	res, err := reg.Import(ctx, layout, "1.0", "from/layout", registry.ImportOptions{Referrers: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifests != 4 || res.Referrers != 1 || res.Descriptor.Digest != idx.Digest {
		t.Fatalf("import from a layout: %+v", res)
	}
	dst := repoOf(t, reg, "from/layout").Target()
	sameGraph(t, store, dst, idx)
	sameGraph(t, store, dst, sig)

	tarPath := filepath.Join(t.TempDir(), "app.tar")
	if _, err := reg.Export(ctx, "from/layout:1.0", tarPath, registry.ExportOptions{Referrers: true}); err != nil {
		t.Fatal(err)
	}
	archive, err := registry.OpenLayout(ctx, tarPath)
	if err != nil {
		t.Fatal(err)
	}
	reg2 := newMemReg(t)
	if _, err := reg2.Import(ctx, archive, "1.0", "from/tar", registry.ImportOptions{Referrers: true}); err != nil {
		t.Fatal(err)
	}
	sameGraph(t, store, repoOf(t, reg2, "from/tar").Target(), idx)
	sameGraph(t, store, repoOf(t, reg2, "from/tar").Target(), sig)
	if _, err := registry.OpenLayout(ctx, filepath.Join(dir, "missing")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("open a missing layout: %v", err)
	}
}

// TestImportFromRemote imports over HTTP from a registrytest server and
// checks on the wire that a second import transfers no blob.
func TestImportFromRemote(t *testing.T) {
	ctx := context.Background()
	srv := registrytest.New(t)
	idx, sig := multiArch(t, repoOf(t, srv.Registry, "lib/app").Target(), "v1")
	rec := &registrytest.Recorder{}
	src, ref, err := registry.NewRemote(srv.Host+"/lib/app:v1", registry.RemoteOptions{PlainHTTP: true, HTTPClient: &http.Client{Transport: rec}})
	if err != nil || ref != "v1" {
		t.Fatalf("NewRemote: %q, %v", ref, err)
	}
	reg := newMemReg(t)
	var mu sync.Mutex
	var last registry.ImportProgress
	opts := registry.ImportOptions{Referrers: true, Progress: func(p registry.ImportProgress) {
		mu.Lock()
		last = p
		mu.Unlock()
	}}
	res, err := reg.Import(ctx, src, ref, "mirror/app", opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifests != 4 || res.Blobs != 7 || res.BlobsTransferred != 7 {
		t.Fatalf("import from remote: %+v", res)
	}
	if last.BlobsDone != last.BlobsTotal || last.BytesDone != last.BytesTotal || last.BytesTotal != res.BytesTransferred {
		t.Fatalf("last progress %+v, result %+v", last, res)
	}
	if n := blobGets(rec); n != 7 {
		for _, r := range rec.Requests() {
			t.Log(r.Method, r.Path, r.RawQuery, r.Status)
		}
		t.Fatalf("%d blob GETs, want 7", n)
	}

	dst := repoOf(t, reg, "mirror/app").Target()
	sameGraph(t, src, dst, idx)
	sameGraph(t, src, dst, sig)
	rec.Reset()
	opts.Force = true
	res, err = reg.Import(ctx, src, ref, "mirror/app", opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := blobGets(rec); n != 0 || res.BlobsTransferred != 0 || res.ManifestsStored != 0 {
		t.Fatalf("second import: %d blob GETs, %+v", n, res)
	}
}

func blobGets(rec *registrytest.Recorder) int {
	n := 0
	for _, r := range rec.Requests() {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/blobs/") {
			n++
		}
	}
	return n
}

// TestImportInterrupted fails and cancels imports midway: no manifest, no
// tag, and a retry transfers only what is missing.
func TestImportInterrupted(t *testing.T) {
	ctx := context.Background()
	src := repoOf(t, newMemReg(t), "lib/app").Target()
	idx, _ := multiArch(t, src, "v1")
	blobs := 0
	var failAt ocispec.Descriptor
	_ = walkBlobs(t, src, idx, func(d ocispec.Descriptor) {
		blobs++
		if blobs == 4 {
			failAt = d
		}
	})

	t.Run("failed fetch", func(t *testing.T) {
		reg := newMemReg(t)
		bad := &brokenFetch{ReadOnlyGraphTarget: src, fail: failAt.Digest}
		_, err := reg.Import(ctx, bad, "v1", "app", registry.ImportOptions{Concurrency: 1})
		if !errors.Is(err, registry.ErrSourceFailed) || !errors.Is(err, errBroken) {
			t.Fatalf("failed import: %v", err)
		}
		dst := repoOf(t, reg, "app")
		if n := manifestCount(t, dst); n != 0 {
			t.Fatalf("failed import stored %d manifests", n)
		}
		res, err := reg.Import(ctx, src, "v1", "app", registry.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.BlobsPresent+res.BlobsTransferred != blobs || res.BlobsTransferred >= blobs || res.BlobsTransferred == 0 {
			t.Fatalf("retry: %+v", res)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		reg := newMemReg(t)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		_, err := reg.Import(cctx, src, "v1", "app", registry.ImportOptions{Concurrency: 1, Progress: func(p registry.ImportProgress) {
			if p.BlobsDone == 2 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled import: %v", err)
		}
		dst := repoOf(t, reg, "app")
		if n := manifestCount(t, dst); n != 0 {
			t.Fatalf("cancelled import stored %d manifests", n)
		}
		if _, err := dst.Tags().Resolve(ctx, "v1"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("cancelled import left the tag: %v", err)
		}
		res, err := reg.Import(ctx, src, "v1", "app", registry.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.BlobsPresent < 2 || res.BlobsPresent+res.BlobsTransferred != blobs {
			t.Fatalf("retry after cancel: %+v", res)
		}
	})
}

var errBroken = errors.New("connection reset by test")

// brokenFetch fails the fetch of one blob.
type brokenFetch struct {
	oras.ReadOnlyGraphTarget
	fail digest.Digest
}

func (b *brokenFetch) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if d.Digest == b.fail {
		return nil, errBroken
	}
	return b.ReadOnlyGraphTarget.Fetch(ctx, d)
}

// walkBlobs calls fn for each distinct blob of root's graph.
func walkBlobs(t *testing.T, s content.ReadOnlyStorage, root ocispec.Descriptor, fn func(ocispec.Descriptor)) error {
	t.Helper()
	seen := map[digest.Digest]bool{}
	var walk func(d ocispec.Descriptor)
	walk = func(d ocispec.Descriptor) {
		succ, err := content.Successors(context.Background(), s, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range succ {
			if manifest.IsManifestMediaType(c.MediaType) {
				walk(c)
			} else if !seen[c.Digest] {
				seen[c.Digest] = true
				fn(c)
			}
		}
	}
	walk(root)
	return nil
}
