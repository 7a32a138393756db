package manifest_test

import (
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/manifest"
)

func ExampleParse() {
	body := []byte(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.signature.v1",
  "config": {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2
  },
  "layers": [
    {
      "mediaType": "application/vnd.example.signature.v1",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 412
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 7682
  }
}`)
	// The Content-Type of the push; "" would detect it from the body.
	m, err := manifest.Parse("application/vnd.oci.image.manifest.v1+json", body, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bytes kept:", string(m.Bytes()) == string(body))
	fmt.Println("artifact type:", m.ArtifactType())
	fmt.Println("subject:", m.Subject().Digest)
	for _, r := range m.References() {
		fmt.Println(r.Kind, r.Digest.Encoded()[:12], r.Size)
	}

	// The same body declared as another type is rejected.
	_, err = manifest.Parse("application/vnd.docker.distribution.manifest.v2+json", body, nil)
	fmt.Println(errors.Is(err, manifest.ErrInvalid))
	// Output:
	// bytes kept: true
	// artifact type: application/vnd.example.signature.v1
	// subject: sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
	// config 44136fa355b3 2
	// layer 9834876dcfb0 412
	// subject 5b0bcabd1ed2 7682
	// true
}

func ExampleSelectPlatform() {
	body := []byte(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7143,
     "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7682,
     "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
  ]
}`)
	m, err := manifest.Parse("", body, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"linux/aarch64", "linux/arm/v7", "linux/amd64"} {
		want, err := manifest.ParsePlatform(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		child, err := manifest.SelectPlatform(m.Index(), want)
		if errors.Is(err, manifest.ErrNotFound) {
			fmt.Println(s, "-> none")
			continue
		}
		fmt.Println(s, "->", manifest.FormatPlatform(*child.Platform), child.Digest.Encoded()[:12])
	}
	fmt.Println(manifest.MatchPlatform(ocispec.Platform{OS: "linux", Architecture: "arm64"},
		ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}))
	// Output:
	// linux/aarch64 -> linux/arm64/v8 5b0bcabd1ed2
	// linux/arm/v7 -> linux/arm/v6 e692418e4cba
	// linux/amd64 -> none
	// true
}
