package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry/remote"
)

// Interop tests with oras-go v2: the library of the oras CLI, notation and
// Helm's OCI support.

func orasRepo(t *testing.T, srv *server, name string, rec *recorder) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(srv.Host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	if rec != nil {
		repo.Client = &http.Client{Transport: rec}
	}
	return repo
}

// orasImage pushes a small image (config and one layer) and tags it.
func orasImage(ctx context.Context, t *testing.T, repo *remote.Repository, tag string) ocispec.Descriptor {
	t.Helper()
	cfg, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	if err != nil {
		t.Fatal(err)
	}
	layer, err := oras.PushBytes(ctx, repo, ocispec.MediaTypeImageLayerGzip, gz(t, []byte("image layer "+tag)))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		ConfigDescriptor: &cfg,
		Layers:           []ocispec.Descriptor{layer},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
	return desc
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func allTags(ctx context.Context, t *testing.T, repo *remote.Repository) []string {
	t.Helper()
	var tags []string
	if err := repo.Tags(ctx, "", func(page []string) error { tags = append(tags, page...); return nil }); err != nil {
		t.Fatal(err)
	}
	return tags
}

const (
	sigType  = "application/vnd.cncf.notary.signature"
	sbomType = "application/spdx+json"
)

func TestORASReferrers(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &recorder{}
		repo := orasRepo(t, srv, "signed/app", rec)
		img := orasImage(ctx, t, repo, "v1")

		attach := func(artifactType, layerType string, data []byte) ocispec.Descriptor {
			t.Helper()
			layer, err := oras.PushBytes(ctx, repo, layerType, data)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
				Subject:             &img,
				Layers:              []ocispec.Descriptor{layer},
				ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-02T03:04:05Z"},
			})
			if err != nil {
				t.Fatal(err)
			}
			return desc
		}
		sig := attach(sigType, "application/jose+json", []byte(`{"payload":"signed"}`))
		sbom := attach(sbomType, "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`))

		// The registry answered OCI-Subject, so oras kept to the referrers
		// API and made no fallback tag.
		if tags := allTags(ctx, t, repo); !slices.Equal(tags, []string{"v1"}) {
			t.Errorf("tags = %v, want [v1] (no referrers-tag fallback)", tags)
		}
		for _, r := range rec.Requests() {
			if r.Method == http.MethodPut && strings.Contains(r.Path, "/manifests/sha256-") {
				t.Errorf("oras fell back to the referrers tag schema: PUT %s", r.Path)
			}
		}

		list := func(artifactType string) []ocispec.Descriptor {
			t.Helper()
			var out []ocispec.Descriptor
			err := repo.Referrers(ctx, img, artifactType, func(page []ocispec.Descriptor) error {
				out = append(out, page...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		all := list("")
		if len(all) != 2 {
			t.Fatalf("%d referrers, want 2: %+v", len(all), all)
		}
		byType := map[string]ocispec.Descriptor{}
		for _, d := range all {
			byType[d.ArtifactType] = d
			if d.MediaType != ocispec.MediaTypeImageManifest {
				t.Errorf("referrer media type = %s", d.MediaType)
			}
			if d.Annotations[ocispec.AnnotationCreated] != "2024-01-02T03:04:05Z" {
				t.Errorf("referrer annotations = %v", d.Annotations)
			}
		}
		if byType[sigType].Digest != sig.Digest || byType[sbomType].Digest != sbom.Digest {
			t.Errorf("referrers = %+v, want %s and %s", all, sig.Digest, sbom.Digest)
		}
		for _, at := range []string{sigType, sbomType} {
			got := list(at)
			if len(got) != 1 || got[0].ArtifactType != at {
				t.Errorf("referrers of type %s = %+v", at, got)
			}
		}
		if got := list("application/vnd.example.none"); len(got) != 0 {
			t.Errorf("filter with no match = %+v", got)
		}
		// The referrer pulls back with its subject.
		_, body, err := oras.FetchBytes(ctx, repo, sbom.Digest.String(), oras.DefaultFetchBytesOptions)
		if err != nil {
			t.Fatal(err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Subject == nil || m.Subject.Digest != img.Digest || m.ArtifactType != sbomType || m.Config.MediaType != ocispec.MediaTypeEmptyJSON {
			t.Errorf("pulled SBOM manifest = %s", body)
		}
		// Deleting the signature drops it from the referrers.
		if err := repo.Delete(ctx, sig); err != nil {
			t.Fatal(err)
		}
		if got := list(""); len(got) != 1 || got[0].Digest != sbom.Digest {
			t.Errorf("referrers after deleting the signature = %+v", got)
		}
		// Copying the image with its referrers graph to another repository
		// finds the SBOM through the referrers API.
		mirror := orasRepo(t, srv, "mirror/app", nil)
		if _, err := oras.ExtendedCopy(ctx, repo, "v1", mirror, "v1", oras.DefaultExtendedCopyOptions); err != nil {
			t.Fatal(err)
		}
		var mirrored []ocispec.Descriptor
		if err := mirror.Referrers(ctx, img, "", func(page []ocispec.Descriptor) error {
			mirrored = append(mirrored, page...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(mirrored) != 1 || mirrored[0].Digest != sbom.Digest {
			t.Errorf("mirrored referrers = %+v", mirrored)
		}
	})
}

func TestORASHelmChart(t *testing.T) {
	const (
		helmConfig = "application/vnd.cncf.helm.config.v1+json"
		helmChart  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	)
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		src := memory.New()
		cfgBytes := []byte(`{"name":"mychart","version":"0.1.0","apiVersion":"v2"}`)
		chartBytes := gz(t, []byte("mychart/Chart.yaml: apiVersion v2"))
		cfg, err := oras.PushBytes(ctx, src, helmConfig, cfgBytes)
		if err != nil {
			t.Fatal(err)
		}
		chart, err := oras.PushBytes(ctx, src, helmChart, chartBytes)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := oras.PackManifest(ctx, src, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
			ConfigDescriptor: &cfg,
			Layers:           []ocispec.Descriptor{chart},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Tag(ctx, desc, "0.1.0"); err != nil {
			t.Fatal(err)
		}
		repo := orasRepo(t, srv, "charts/mychart", nil)
		pushed, err := oras.Copy(ctx, src, "0.1.0", repo, "0.1.0", oras.DefaultCopyOptions)
		if err != nil {
			t.Fatal(err)
		}
		if pushed.Digest != desc.Digest {
			t.Errorf("pushed %s, want %s", pushed.Digest, desc.Digest)
		}

		dst := memory.New()
		pulled, err := oras.Copy(ctx, repo, "0.1.0", dst, "0.1.0", oras.DefaultCopyOptions)
		if err != nil {
			t.Fatal(err)
		}
		if !content.Equal(pulled, desc) {
			t.Errorf("pulled %+v, want %+v", pulled, desc)
		}
		mb, err := content.FetchAll(ctx, dst, pulled)
		if err != nil {
			t.Fatal(err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			t.Fatal(err)
		}
		if m.Config.MediaType != helmConfig || len(m.Layers) != 1 || m.Layers[0].MediaType != helmChart {
			t.Fatalf("chart manifest = %s", mb)
		}
		for _, c := range []struct {
			d    ocispec.Descriptor
			want []byte
		}{{m.Config, cfgBytes}, {m.Layers[0], chartBytes}} {
			got, err := content.FetchAll(ctx, dst, c.d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Errorf("%s: pulled bytes differ", c.d.MediaType)
			}
		}
	})
}

func TestORASTagPagination(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &recorder{}
		repo := orasRepo(t, srv, "paged/app", rec)
		img := orasImage(ctx, t, repo, "a0")
		want := []string{"a0"}
		for i := 1; i < 7; i++ {
			tag := fmt.Sprintf("a%d", i)
			if err := repo.Tag(ctx, img, tag); err != nil {
				t.Fatal(err)
			}
			want = append(want, tag)
		}
		repo.TagListPageSize = 3
		rec.Reset()
		var pages [][]string
		err := repo.Tags(ctx, "", func(page []string) error {
			pages = append(pages, page)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
			t.Errorf("pages = %v, want sizes 3, 3, 1", pages)
		}
		if got := slices.Concat(pages...); !slices.Equal(got, want) {
			t.Errorf("tags = %v, want %v", got, want)
		}
		if n := len(rec.Requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		var rest []string
		if err := repo.Tags(ctx, "a4", func(page []string) error { rest = append(rest, page...); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rest, want[5:]) {
			t.Errorf("tags after a4 = %v, want %v", rest, want[5:])
		}
	})
}

// TestORASMount mounts a blob across repositories through oras, and falls
// back to an upload when the source lacks the blob.
func TestORASMount(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, b backend) {
		srv := b.start(t)
		rec := &recorder{}
		src := orasRepo(t, srv, "mount/src", rec)
		data := []byte("a blob to mount")
		desc, err := oras.PushBytes(ctx, src, "application/octet-stream", data)
		if err != nil {
			t.Fatal(err)
		}
		dst := orasRepo(t, srv, "mount/dst", rec)
		rec.Reset()
		if err := dst.Mount(ctx, desc, "mount/src", nil); err != nil {
			t.Fatal(err)
		}
		if reqs := rec.Requests(); len(reqs) != 1 || reqs[0].Status != http.StatusCreated {
			t.Errorf("mount requests = %+v, want one 201", reqs)
		}
		if got, err := content.FetchAll(ctx, dst, desc); err != nil || !bytes.Equal(got, data) {
			t.Errorf("mounted blob = %q, %v", got, err)
		}

		other := []byte("a blob only the client has")
		odesc := content.NewDescriptorFromBytes("application/octet-stream", other)
		rec.Reset()
		err = dst.Mount(ctx, odesc, "mount/src", func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(other)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reqs := rec.Requests()
		if len(reqs) == 0 || reqs[0].Status != http.StatusAccepted {
			t.Errorf("mount of a missing blob: %+v, want 202 then an upload", reqs)
		}
		if got, err := content.FetchAll(ctx, dst, odesc); err != nil || !bytes.Equal(got, other) {
			t.Errorf("uploaded blob = %q, %v", got, err)
		}
	})
}
