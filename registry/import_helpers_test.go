package registry_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	orasdef "oras.land/oras-go/v2/errdef"

	"github.com/regkit/regkit/registry"
)

// newMemReg returns an in-memory registry closed with the test.
func newMemReg(t testing.TB, opts ...registry.Option) *registry.Registry {
	t.Helper()
	reg, err := registry.NewMemory(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

func repoOf(t testing.TB, reg *registry.Registry, name string) *registry.Repository {
	t.Helper()
	repo, err := reg.Repository(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// pushTo pushes b as mediaType into dst (any oras-go storage).
func pushTo(t testing.TB, dst content.Pusher, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if err := dst.Push(context.Background(), d, bytes.NewReader(b)); err != nil && !errors.Is(err, orasdef.ErrAlreadyExists) {
		t.Fatalf("push %s: %v", mediaType, err)
	}
	return d
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// pushImage pushes an image for platform "os/arch" with the given layers.
func pushImage(t testing.TB, dst content.Pusher, platform string, layers ...[]byte) ocispec.Descriptor {
	t.Helper()
	os, arch, _ := strings.Cut(platform, "/")
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: os, Architecture: arch}})
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    pushTo(t, dst, ocispec.MediaTypeImageConfig, cfg),
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, pushTo(t, dst, ocispec.MediaTypeImageLayerGzip, l))
	}
	b, _ := json.Marshal(m)
	d := pushTo(t, dst, ocispec.MediaTypeImageManifest, b)
	d.Platform = &ocispec.Platform{OS: os, Architecture: arch}
	return d
}

// pushIndex pushes an index of children.
func pushIndex(t testing.TB, dst content.Pusher, children ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	b, _ := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: children,
	})
	return pushTo(t, dst, ocispec.MediaTypeImageIndex, b)
}

// pushSignature pushes a signature-like referrer of subject.
func pushSignature(t testing.TB, dst content.Pusher, subject ocispec.Descriptor, payload string) ocispec.Descriptor {
	t.Helper()
	subject = ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example.signature",
		Config:       pushTo(t, dst, ocispec.MediaTypeEmptyJSON, []byte("{}")),
		Layers:       []ocispec.Descriptor{pushTo(t, dst, "application/vnd.example.signature.payload", []byte(payload))},
		Subject:      &subject,
	}
	b, _ := json.Marshal(m)
	return pushTo(t, dst, ocispec.MediaTypeImageManifest, b)
}

func tagIn(t testing.TB, dst content.Tagger, d ocispec.Descriptor, name string) {
	t.Helper()
	if err := dst.Tag(context.Background(), d, name); err != nil {
		t.Fatalf("tag %s: %v", name, err)
	}
}

// multiArch pushes a two-platform index with a signature on the index into
// dst and tags it; it returns the index and the signature.
func multiArch(t testing.TB, dst interface {
	content.Pusher
	content.Tagger
}, tg string) (idx, sig ocispec.Descriptor) {
	t.Helper()
	amd := pushImage(t, dst, "linux/amd64", randBytes(2048), randBytes(1000))
	arm := pushImage(t, dst, "linux/arm64", randBytes(3000))
	idx = pushIndex(t, dst, amd, arm)
	tagIn(t, dst, idx, tg)
	sig = pushSignature(t, dst, idx, "signed "+tg)
	return idx, sig
}

// manifestCount returns how many manifests repo stores.
func manifestCount(t testing.TB, repo *registry.Repository) int {
	t.Helper()
	ms, err := repo.Manifests().List(context.Background(), registry.ListOptions{})
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		t.Fatal(err)
	}
	return len(ms)
}
