package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// backends runs fn once per storage combination: in memory and the embedded
// default on disk.
func backends(t *testing.T, fn func(t *testing.T, newReg func(opts ...Option) *Registry)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(opts ...Option) *Registry {
			r, err := NewMemory(opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		})
	})
	t.Run("embedded", func(t *testing.T) {
		fn(t, func(opts ...Option) *Registry {
			r, err := Open(t.TempDir(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		})
	})
}

func repoOf(t testing.TB, r *Registry, name string) *Repository {
	t.Helper()
	repo, err := r.Repository(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// putBlob uploads b into repo and returns its descriptor.
func putBlob(t testing.TB, repo *Repository, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	if _, err := repo.Blobs().Put(context.Background(), d, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatalf("put blob: %v", err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// image is a pushed test image.
type image struct {
	desc   ocispec.Descriptor
	config ocispec.Descriptor
	layers []ocispec.Descriptor
	bytes  []byte
}

// buildImage uploads a config and n random layers and returns the manifest
// bytes (not pushed).
func buildImage(t testing.TB, repo *Repository, n int, annotations map[string]string) image {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers"}, "nonce": string(randomBytes(t, 8))})
	img := image{config: putBlob(t, repo, ocispec.MediaTypeImageConfig, cfg)}
	for i := 0; i < n; i++ {
		img.layers = append(img.layers, putBlob(t, repo, ocispec.MediaTypeImageLayerGzip, randomBytes(t, 64+i)))
	}
	m := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      img.config,
		Layers:      img.layers,
		Annotations: annotations,
	}
	img.bytes, _ = json.Marshal(m)
	img.desc = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(img.bytes), Size: int64(len(img.bytes))}
	return img
}

// pushImage builds and pushes an image with n layers under tag (or by
// digest when tag is empty).
func pushImage(t testing.TB, repo *Repository, tag string, n int) image {
	t.Helper()
	img := buildImage(t, repo, n, nil)
	if _, err := repo.Manifests().Put(context.Background(), img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tag}); err != nil {
		t.Fatalf("push image: %v", err)
	}
	return img
}

// pushReferrer pushes an artifact whose subject is subj.
func pushReferrer(t testing.TB, repo *Repository, subj ocispec.Descriptor, artifactType string) ocispec.Descriptor {
	t.Helper()
	empty := putBlob(t, repo, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	layer := putBlob(t, repo, "application/octet-stream", randomBytes(t, 32))
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       empty,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &subj,
	}
	b, _ := json.Marshal(m)
	desc, err := repo.Manifests().Put(context.Background(), b, PutOptions{MediaType: ocispec.MediaTypeImageManifest})
	if err != nil {
		t.Fatalf("push referrer: %v", err)
	}
	return desc
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// blobsOf lists the config and layer digests of an image manifest.
func blobsOf(t testing.TB, b []byte) []digest.Digest {
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := []digest.Digest{m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}
