package registry

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestReferrers(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		repo := repoOf(t, r, "app")
		img := pushImage(t, repo, "v1", 1)
		sig := pushReferrer(t, repo, img.desc, "application/vnd.example.signature")
		sbom := pushReferrer(t, repo, img.desc, "application/spdx+json")
		sbomSig := pushReferrer(t, repo, sbom, "application/vnd.example.signature")

		all, err := repo.Manifests().Referrers(ctx, img.desc.Digest, "")
		if err != nil || len(all) != 2 {
			t.Fatalf("referrers = %v, %v", all, err)
		}
		sigs, _ := repo.Manifests().Referrers(ctx, img.desc.Digest, "application/vnd.example.signature")
		if len(sigs) != 1 || sigs[0].Digest != sig.Digest || sigs[0].ArtifactType != "application/vnd.example.signature" {
			t.Fatalf("filtered referrers = %+v", sigs)
		}
		// A referrer may arrive before its subject.
		ghost := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("not pushed yet"), Size: 10}
		early := pushReferrer(t, repo, ghost, "application/vnd.example.signature")
		got, _ := repo.Manifests().Referrers(ctx, ghost.Digest, "")
		if len(got) != 1 || got[0].Digest != early.Digest {
			t.Fatalf("referrers of missing subject = %+v", got)
		}

		// Deleting the subject deletes its referrers graph.
		if err := repo.Manifests().Delete(ctx, img.desc.Digest); err != nil {
			t.Fatal(err)
		}
		for _, d := range []digest.Digest{img.desc.Digest, sig.Digest, sbom.Digest, sbomSig.Digest} {
			if _, err := repo.Manifests().Get(ctx, d.String(), GetOptions{}); !errors.Is(err, ErrManifestUnknown) {
				t.Fatalf("%s survived its subject's delete: %v", d, err)
			}
		}
		if _, err := repo.Tags().Resolve(ctx, "v1"); !errors.Is(err, ErrManifestUnknown) {
			t.Fatalf("tag survived: %v", err)
		}
		if rep, _ := r.Check(ctx); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

func TestIndexChildren(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	repo := repoOf(t, r, "multi")
	amd := pushImage(t, repo, "", 1)
	arm := pushImage(t, repo, "", 1)
	amd.desc.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.desc.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd.desc, arm.desc}}
	b, _ := json.Marshal(idx)
	missing := idx
	missing.Manifests = append([]ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("x"), Size: 1}}, idx.Manifests...)
	mb, _ := json.Marshal(missing)
	if _, err := repo.Manifests().Put(ctx, mb, PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: "bad"}); !errors.Is(err, ErrManifestChildUnknown) {
		t.Fatalf("index with missing child: %v", err)
	}
	desc, err := repo.Manifests().Put(ctx, b, PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: "latest"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := repo.Manifests().Properties(ctx, desc.Digest)
	if len(p.References) != 2 || p.References[1].Platform.Architecture != "arm64" {
		t.Fatalf("references = %+v", p.References)
	}
	if err := repo.Manifests().Delete(ctx, amd.desc.Digest); !errors.Is(err, ErrManifestReferenced) {
		t.Fatalf("delete child of index: %v", err)
	}
	if err := repo.Manifests().Delete(ctx, desc.Digest); err != nil {
		t.Fatal(err)
	}
	if err := repo.Manifests().Delete(ctx, amd.desc.Digest); err != nil {
		t.Fatalf("delete former child: %v", err)
	}
	if rep, _ := r.Check(ctx); !rep.OK() {
		t.Fatal(rep.Problems)
	}
}

func TestDeleteRepositoryAndLastManifest(t *testing.T) {
	backends(t, func(t *testing.T, newReg func(...Option) *Registry) {
		ctx := context.Background()
		r := newReg()
		a, b := repoOf(t, r, "team/a"), repoOf(t, r, "team/b")
		img := pushImage(t, a, "v1", 2)
		pushImage(t, a, "v2", 1)
		pushImage(t, b, "v1", 1)
		if err := r.DeleteRepository(ctx, "team/a"); err != nil {
			t.Fatal(err)
		}
		names, _ := r.Repositories(ctx, "", 0)
		if len(names) != 1 || names[0] != "team/b" {
			t.Fatalf("catalog = %v", names)
		}
		if _, err := a.Blobs().Stat(ctx, img.layers[0].Digest); !errors.Is(err, ErrBlobUnknown) {
			t.Fatalf("blob link survived repository delete: %v", err)
		}
		if err := r.DeleteRepository(ctx, "team/a"); !errors.Is(err, ErrNameUnknown) {
			t.Fatalf("delete missing repository: %v", err)
		}
		// Deleting the last manifest takes the repository out of the catalog.
		only, _ := b.Tags().Resolve(ctx, "v1")
		if err := b.Manifests().Delete(ctx, only.Digest); err != nil {
			t.Fatal(err)
		}
		names, _ = r.Repositories(ctx, "", 0)
		if len(names) != 0 {
			t.Fatalf("catalog after last delete = %v", names)
		}
		if rep, _ := r.Check(ctx); !rep.OK() {
			t.Fatal(rep.Problems)
		}
	})
}

func TestAcceptNegotiation(t *testing.T) {
	ctx := context.Background()
	r, _ := NewMemory()
	defer r.Close()
	repo := repoOf(t, r, "multi")
	amd := pushImage(t, repo, "", 1)
	amd.desc.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd.desc}}
	b, _ := json.Marshal(idx)
	desc, err := repo.Manifests().Put(ctx, b, PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: "latest"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		accept []string
		want   digest.Digest
	}{
		{nil, desc.Digest},
		{[]string{"*/*"}, desc.Digest},
		{[]string{ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest}, desc.Digest},
		{[]string{ocispec.MediaTypeImageManifest}, amd.desc.Digest},
		{[]string{"application/vnd.docker.distribution.manifest.v2+json"}, desc.Digest},
	}
	for _, tt := range tests {
		m, err := repo.Manifests().Get(ctx, "latest", GetOptions{Accept: tt.accept})
		if err != nil || m.Descriptor.Digest != tt.want {
			t.Errorf("Accept %v: got %v, %v; want %s", tt.accept, m.Descriptor.Digest, err, tt.want)
		}
		d, err := repo.Manifests().Stat(ctx, "latest", GetOptions{Accept: tt.accept})
		if err != nil || d.Digest != tt.want {
			t.Errorf("Stat Accept %v: got %v, %v", tt.accept, d.Digest, err)
		}
	}
}
