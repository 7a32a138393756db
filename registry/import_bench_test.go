package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
)

// BenchmarkImport imports a 10-layer image from a registrytest server on
// disk (over loopback HTTP) into a registry on disk, beside the raw SHA-256
// of the same bytes, and times a second import of the same image.
// REGKIT_IMPORT_BENCH_MIB sets the image size (default 64 MiB; the
// recorded figure uses 1024).
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	mib := 64
	if s := os.Getenv("REGKIT_IMPORT_BENCH_MIB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 10 {
			mib = n
		}
	}
	total := int64(mib) << 20
	srv := registrytest.NewWith(b, registrytest.Options{Dir: b.TempDir()})
	repo := repoOf(b, srv.Registry, "big/app")
	layers := make([][]byte, 10)
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	cfg := []byte(`{"os":"linux","architecture":"amd64"}`)
	if _, err := repo.Blobs().Put(ctx, digest.FromBytes(cfg), int64(len(cfg)), bytes.NewReader(cfg)); err != nil {
		b.Fatal(err)
	}
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	for i := range layers {
		layers[i] = randBytes(int(total / 10))
		d := digest.FromBytes(layers[i])
		if _, err := repo.Blobs().Put(ctx, d, int64(len(layers[i])), bytes.NewReader(layers[i])); err != nil {
			b.Fatal(err)
		}
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: int64(len(layers[i]))})
	}
	mb, _ := json.Marshal(m)
	if _, err := repo.Manifests().Put(ctx, mb, registry.PutOptions{Tag: "v1"}); err != nil {
		b.Fatal(err)
	}
	src, ref, err := registry.NewRemote(srv.Host+"/big/app:v1", registry.RemoteOptions{PlainHTTP: true, HTTPClient: &http.Client{}})
	if err != nil {
		b.Fatal(err)
	}
	size := total / 10 * 10

	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, l := range layers {
				_ = sha256.Sum256(l)
			}
		}
	})
	b.Run("import", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			dst, err := registry.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := dst.Import(ctx, src, ref, "big/app", registry.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = dst.Close()
			b.StartTimer()
		}
	})
	b.Run("second-import", func(b *testing.B) {
		dst, err := registry.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer dst.Close()
		if _, err := dst.Import(ctx, src, ref, "big/app", registry.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			res, err := dst.Import(ctx, src, ref, "big/app", registry.ImportOptions{Force: true})
			if err != nil || res.BlobsTransferred != 0 {
				b.Fatalf("%+v, %v", res, err)
			}
		}
	})
}
