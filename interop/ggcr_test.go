package interop_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry/registrytest"
)

// Interop tests with go-containerregistry's remote package: the client of
// crane, ko and many CI tools.

func ggcrRef(t *testing.T, host, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(host+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func randomImage(t *testing.T, seed int64, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(3000, layers, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// sameImage compares a pulled image with the pushed one: digest, manifest
// bytes, config and every layer's compressed bytes.
func sameImage(t *testing.T, got, want v1.Image) {
	t.Helper()
	gd, err := got.Digest()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := want.Digest()
	if gd != wd {
		t.Errorf("digest = %s, want %s", gd, wd)
	}
	gm, err := got.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	wm, _ := want.RawManifest()
	if !bytes.Equal(gm, wm) {
		t.Errorf("manifest bytes differ:\n got %s\nwant %s", gm, wm)
	}
	gc, err := got.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wc, _ := want.RawConfigFile()
	if !bytes.Equal(gc, wc) {
		t.Errorf("config differs")
	}
	gl, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := want.Layers()
	if len(gl) != len(wl) {
		t.Fatalf("%d layers, want %d", len(gl), len(wl))
	}
	for i := range gl {
		ld, _ := gl[i].Digest()
		wld, _ := wl[i].Digest()
		if ld != wld {
			t.Errorf("layer %d digest = %s, want %s", i, ld, wld)
		}
		a := layerBytes(t, gl[i])
		if h, _, _ := v1.SHA256(bytes.NewReader(a)); h != wld {
			t.Errorf("layer %d pulled bytes hash to %s, want %s", i, h, wld)
		}
		// A streamed layer cannot be read twice; compare bytes when it can.
		if rc, err := wl[i].Compressed(); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(a, b) {
				t.Errorf("layer %d: %d bytes differ from the %d pushed", i, len(a), len(b))
			}
		}
	}
}

func layerBytes(t *testing.T, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGGCRPushPullImage(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &registrytest.Recorder{}
		img := randomImage(t, 1, 3)
		ref := ggcrRef(t, srv.Host, "team/app:v1")
		if err := remote.Write(ref, img, remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		// Each of the 4 blobs went POST, PATCH (with its length), PUT.
		var patches int
		for _, r := range rec.Requests() {
			if r.Method == http.MethodPatch {
				patches++
				if r.Status != http.StatusAccepted || r.ContentLength <= 0 {
					t.Errorf("PATCH %s: status %d, length %d", r.Path, r.Status, r.ContentLength)
				}
			}
		}
		if patches != 4 {
			t.Errorf("%d PATCH uploads, want 4", patches)
		}

		got, err := remote.Image(ref, remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		sameImage(t, got, img)
		want, _ := img.Digest()
		byDigest, err := remote.Image(ggcrRef(t, srv.Host, "team/app@"+want.String()), remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		sameImage(t, byDigest, img)
		desc, err := remote.Head(ref, remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != want || desc.MediaType != types.DockerManifestSchema2 {
			t.Errorf("HEAD = %s %s, want %s %s", desc.Digest, desc.MediaType, want, types.DockerManifestSchema2)
		}
		// Pushing again finds every blob and skips the uploads.
		rec.Reset()
		if err := remote.Write(ggcrRef(t, srv.Host, "team/app:v2"), img, remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		for _, r := range rec.Requests() {
			if r.Method == http.MethodPatch || r.Method == http.MethodPost {
				t.Errorf("second push sent %s %s", r.Method, r.Path)
			}
		}
		// Delete by digest removes both tags.
		if err := remote.Delete(ggcrRef(t, srv.Host, "team/app@"+want.String()), remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Head(ref, remote.WithTransport(rec)); err == nil {
			t.Error("manifest still there after delete")
		}
	})
}

// TestGGCRStreamedLayer pushes a layer whose size and digest the client
// learns only while streaming it: a PATCH without Content-Length.
func TestGGCRStreamedLayer(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &registrytest.Recorder{}
		data := bytes.Repeat([]byte("streamed layer content "), 500)
		sl := stream.NewLayer(io.NopCloser(bytes.NewReader(data)))
		img, err := mutate.AppendLayers(randomImage(t, 2, 1), sl)
		if err != nil {
			t.Fatal(err)
		}
		ref := ggcrRef(t, srv.Host, "stream/app:v1")
		if err := remote.Write(ref, img, remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		streamed := 0
		for _, r := range rec.Requests() {
			if r.Method == http.MethodPatch && r.ContentLength < 0 {
				streamed++
			}
		}
		if streamed != 1 {
			t.Errorf("%d PATCH requests of unknown length, want 1", streamed)
		}
		got, err := remote.Image(ref, remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		sameImage(t, got, img)
		ls, _ := got.Layers()
		rc, err := ls[1].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if b, _ := io.ReadAll(rc); !bytes.Equal(b, data) {
			t.Error("streamed layer does not read back")
		}
	})
}

func TestGGCRMultiArchIndex(t *testing.T) {
	platforms := []v1.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1"},
	}
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		var idx v1.ImageIndex = empty.Index
		idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
		imgs := make([]v1.Image, len(platforms))
		for i, p := range platforms {
			imgs[i] = mutate.MediaType(mutate.ConfigMediaType(randomImage(t, int64(10+i), 2), types.OCIConfigJSON), types.OCIManifestSchema1)
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
				Add:        imgs[i],
				Descriptor: v1.Descriptor{Platform: &p},
			})
		}
		ref := ggcrRef(t, srv.Host, "multi/arch:latest")
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		got, err := remote.Index(ref)
		if err != nil {
			t.Fatal(err)
		}
		gd, _ := got.Digest()
		wd, _ := idx.Digest()
		if gd != wd {
			t.Fatalf("index digest = %s, want %s", gd, wd)
		}
		im, err := got.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != len(platforms) || im.MediaType != types.OCIImageIndex {
			t.Fatalf("index = %+v", im)
		}
		desc, err := remote.Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		if desc.MediaType != types.OCIImageIndex {
			t.Errorf("media type = %s", desc.MediaType)
		}
		for i, p := range platforms {
			img, err := remote.Image(ref, remote.WithPlatform(p))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			sameImage(t, img, imgs[i])
		}
		// A random index (no platforms) goes through as well.
		ri, err := random.Index(1024, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		rref := ggcrRef(t, srv.Host, "multi/random:v1")
		if err := remote.WriteIndex(rref, ri); err != nil {
			t.Fatal(err)
		}
		back, err := remote.Index(rref)
		if err != nil {
			t.Fatal(err)
		}
		bm, _ := back.RawManifest()
		rm, _ := ri.RawManifest()
		if !bytes.Equal(bm, rm) {
			t.Error("random index bytes differ")
		}
	})
}

// TestGGCRCrossRepoMount copies an image between repositories of one
// registry: the client mounts every blob instead of uploading it.
func TestGGCRCrossRepoMount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &registrytest.Recorder{}
		img := randomImage(t, 3, 3)
		src := ggcrRef(t, srv.Host, "src/app:v1")
		if err := remote.Write(src, img, remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		pulled, err := remote.Image(src, remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		rec.Reset()
		dst := ggcrRef(t, srv.Host, "dst/app:v1")
		if err := remote.Write(dst, pulled, remote.WithTransport(rec)); err != nil {
			t.Fatal(err)
		}
		mounts := 0
		for _, r := range rec.Requests() {
			switch r.Method {
			case http.MethodPost:
				if !strings.Contains(r.RawQuery, "from=src%2Fapp") || !strings.Contains(r.RawQuery, "mount=sha256") {
					t.Errorf("POST %s?%s is not a mount", r.Path, r.RawQuery)
				}
				if r.Status != http.StatusCreated {
					t.Errorf("mount answered %d, want 201", r.Status)
				}
				mounts++
			case http.MethodPatch, http.MethodPut:
				if !strings.Contains(r.Path, "/manifests/") {
					t.Errorf("copy uploaded bytes: %s %s", r.Method, r.Path)
				}
			}
		}
		if mounts != 4 {
			t.Errorf("%d mounts, want 4 (3 layers and the config)", mounts)
		}
		// Every blob is now linked into dst/app: readable there.
		dstRepo, err := srv.Reg.Repository(context.Background(), "dst/app")
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{cfg.String()}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, d.String())
		}
		for _, d := range want {
			dg, err := blob.ParseDigest(d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dstRepo.Blobs().Stat(context.Background(), dg); err != nil {
				t.Errorf("blob %s not linked into dst/app: %v", d, err)
			}
		}
		got, err := remote.Image(dst, remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		sameImage(t, got, img)
		// The registry stored each blob once.
		var stored int
		err = srv.Reg.Blobs().Walk(context.Background(), func(blob.Info) error { stored++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if stored != 4 {
			t.Errorf("%d blobs stored, want 4", stored)
		}
	})
}

// TestGGCRListPagination lists tags and the catalog page by page, following
// the registry's relative Link headers.
func TestGGCRListPagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		img := randomImage(t, 4, 1)
		var want []string
		for i := range 5 {
			tag := fmt.Sprintf("v%d", i)
			want = append(want, tag)
			if err := remote.Write(ggcrRef(t, srv.Host, "list/app:"+tag), img); err != nil {
				t.Fatal(err)
			}
		}
		for _, repo := range []string{"list/b", "list/c"} {
			if err := remote.Write(ggcrRef(t, srv.Host, repo+":x"), img); err != nil {
				t.Fatal(err)
			}
		}
		rec := &registrytest.Recorder{}
		repo, err := name.NewRepository(srv.Host+"/list/app", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := remote.List(repo, remote.WithPageSize(2), remote.WithTransport(rec))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags, want) {
			t.Errorf("tags = %v, want %v", tags, want)
		}
		if n := len(rec.Requests()); n < 3 {
			t.Errorf("%d requests for 5 tags in pages of 2", n)
		}
		cat, err := remote.Catalog(context.Background(), repo.Registry, remote.WithPageSize(1))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"list/app", "list/b", "list/c"}; !slices.Equal(cat, want) {
			t.Errorf("catalog = %v, want %v", cat, want)
		}
	})
}
