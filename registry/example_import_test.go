package registry_test

import (
	"context"
	"fmt"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
)

// Import an image from one registry into another, export it as an OCI image
// layout tar, and import that into a third registry.
func ExampleRegistry_Import() {
	ctx := context.Background()
	upstream, _ := registry.NewMemory()
	defer upstream.Close()
	lib, _ := upstream.Repository(ctx, "library/app")
	config := pushBlob(ctx, lib, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(ctx, lib, ocispec.MediaTypeImageLayerGzip, []byte("not really a tarball"))
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		ocispec.MediaTypeImageManifest, config.MediaType, config.Digest, config.Size, layer.MediaType, layer.Digest, layer.Size)
	if _, err := lib.Manifests().Put(ctx, []byte(body), registry.PutOptions{Tag: "1.0"}); err != nil {
		panic(err)
	}

	reg, _ := registry.NewMemory()
	defer reg.Close()
	res, err := reg.Import(ctx, lib.Target(), "1.0", "mirror/app", registry.ImportOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("imported %s:%s, %d blobs transferred\n", res.Repository, res.Tag, res.BlobsTransferred)
	imported := res.Descriptor.Digest

	// A second import into another repository links the blobs.
	res, _ = reg.Import(ctx, lib.Target(), "1.0", "team/app:stable", registry.ImportOptions{})
	fmt.Printf("imported %s:%s, %d blobs linked\n", res.Repository, res.Tag, res.BlobsLinked)

	dir, cleanup := tempDir()
	defer cleanup()
	tarPath := filepath.Join(dir, "app.tar")
	if _, err := reg.Export(ctx, "mirror/app:1.0", tarPath, registry.ExportOptions{}); err != nil {
		panic(err)
	}
	layout, err := registry.OpenLayout(ctx, tarPath)
	if err != nil {
		panic(err)
	}
	other, _ := registry.NewMemory()
	defer other.Close()
	res, _ = other.Import(ctx, layout, "1.0", "from-tar", registry.ImportOptions{})
	fmt.Printf("from the tar: %s:%s, same manifest: %v\n", res.Repository, res.Tag, res.Descriptor.Digest == imported)
	// Output:
	// imported mirror/app:1.0, 2 blobs transferred
	// imported team/app:stable, 2 blobs linked
	// from the tar: from-tar:1.0, same manifest: true
}
