package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// vector is a valid manifest in testdata and what Parse must make of it.
type vector struct {
	file         string
	mediaType    string
	index        bool
	deprecated   bool
	helm         bool
	artifactType string
	subject      bool
	refs         []Kind
}

var vectors = []vector{
	{file: "oci-manifest.json", mediaType: MediaTypeOCIManifest, artifactType: MediaTypeOCIConfig, subject: true,
		refs: []Kind{KindConfig, KindLayer, KindLayer, KindLayer, KindSubject}},
	{file: "oci-index.json", mediaType: MediaTypeOCIIndex, index: true,
		refs: []Kind{KindManifest, KindManifest}},
	{file: "oci-artifact.json", mediaType: MediaTypeOCIManifest, artifactType: "application/vnd.example.sbom.v1+json", subject: true,
		refs: []Kind{KindConfig, KindLayer, KindSubject}},
	{file: "oci-index-artifact.json", mediaType: MediaTypeOCIIndex, index: true, artifactType: "application/vnd.example.signature-bundle.v1", subject: true,
		refs: []Kind{KindManifest, KindSubject}},
	{file: "docker-manifest.json", mediaType: MediaTypeDockerManifest, artifactType: MediaTypeDockerConfig,
		refs: []Kind{KindConfig, KindLayer, KindLayer, KindLayer}},
	{file: "docker-manifest-list.json", mediaType: MediaTypeDockerManifestList, index: true,
		refs: []Kind{KindManifest, KindManifest}},
	{file: "docker-windows-foreign.json", mediaType: MediaTypeDockerManifest, artifactType: MediaTypeDockerConfig,
		refs: []Kind{KindConfig, KindLayer, KindLayer}},
	{file: "helm-chart.json", mediaType: MediaTypeOCIManifest, helm: true, artifactType: MediaTypeHelmConfig,
		refs: []Kind{KindConfig, KindLayer, KindLayer}},
	{file: "schema1-unsigned.json", mediaType: MediaTypeDockerSchema1, deprecated: true,
		refs: []Kind{KindLayer, KindLayer}},
	{file: "schema1-signed.json", mediaType: MediaTypeDockerSchema1Signed, deprecated: true,
		refs: []Kind{KindLayer, KindLayer}},
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var allowAll = &Options{AllowSchema1: true}

func TestParseVectors(t *testing.T) {
	for _, v := range vectors {
		data := readVector(t, v.file)
		// Declared, detected, and declared with parameters.
		for _, declared := range []string{v.mediaType, "", v.mediaType + "; charset=utf-8"} {
			m, err := Parse(declared, data, allowAll)
			if err != nil {
				t.Errorf("%s as %q: %v", v.file, declared, err)
				continue
			}
			name := fmt.Sprintf("%s as %q", v.file, declared)
			if m.MediaType() != v.mediaType {
				t.Errorf("%s: MediaType %q, want %q", name, m.MediaType(), v.mediaType)
			}
			var w bytes.Buffer
			if n, err := m.WriteTo(&w); err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
				t.Errorf("%s: WriteTo = %d, %v", name, n, err)
			}
			if !bytes.Equal(m.Bytes(), data) || m.Size() != int64(len(data)) {
				t.Errorf("%s: bytes changed", name)
			}
			if want := digest.FromBytes(data); m.Digest() != want {
				t.Errorf("%s: Digest %s, want %s", name, m.Digest(), want)
			}
			if m.IsIndex() != v.index || m.Deprecated() != v.deprecated || m.IsHelmChart() != v.helm || m.IsOpaque() {
				t.Errorf("%s: IsIndex %v Deprecated %v IsHelmChart %v IsOpaque %v", name, m.IsIndex(), m.Deprecated(), m.IsHelmChart(), m.IsOpaque())
			}
			if m.ArtifactType() != v.artifactType {
				t.Errorf("%s: ArtifactType %q, want %q", name, m.ArtifactType(), v.artifactType)
			}
			if (m.Subject() != nil) != v.subject {
				t.Errorf("%s: Subject %v", name, m.Subject())
			}
			var kinds []Kind
			for _, r := range m.References() {
				kinds = append(kinds, r.Kind)
			}
			if !reflect.DeepEqual(kinds, v.refs) {
				t.Errorf("%s: reference kinds %v, want %v", name, kinds, v.refs)
			}
			if err := Verify(m.Descriptor(), data); err != nil {
				t.Errorf("%s: Verify(Descriptor): %v", name, err)
			}
		}
	}
}

// TestParseMatchesEncodingJSON checks the typed view against encoding/json
// for every valid vector.
func TestParseMatchesEncodingJSON(t *testing.T) {
	for _, v := range vectors {
		data := readVector(t, v.file)
		m, err := Parse(v.mediaType, data, allowAll)
		if err != nil {
			t.Fatalf("%s: %v", v.file, err)
		}
		if err := sameAsEncodingJSON(m); err != nil {
			t.Errorf("%s: %v", v.file, err)
		}
	}
}

// sameAsEncodingJSON decodes m's bytes with encoding/json into the spec
// type of its shape and compares.
func sameAsEncodingJSON(m *Manifest) error {
	var got, want any
	switch {
	case m.Image() != nil:
		var w ocispec.Manifest
		got, want = m.Image(), &w
	case m.Index() != nil:
		var w ocispec.Index
		got, want = m.Index(), &w
	default:
		return nil
	}
	if err := json.Unmarshal(m.Bytes(), want); err != nil {
		return fmt.Errorf("encoding/json rejects what Parse accepted: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		return fmt.Errorf("Parse and encoding/json differ:\n got %s\nwant %s", g, w)
	}
	return nil
}

func TestSchema1(t *testing.T) {
	m, err := Parse("", readVector(t, "schema1-signed.json"), allowAll)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Schema1()
	if s == nil || !s.Signed || s.Name != "library/hello" || s.Tag != "latest" || s.Architecture != "amd64" || len(s.History) != 2 {
		t.Fatalf("Schema1 = %+v", s)
	}
	top, base := digest.Digest("sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"),
		digest.Digest("sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736")
	if s.FSLayers[0] != top || s.FSLayers[1] != base {
		t.Errorf("FSLayers = %v", s.FSLayers)
	}
	layers := m.Layers()
	if len(layers) != 2 || layers[0].Digest != base || layers[1].Digest != top || layers[0].Size != -1 || layers[0].MediaType != MediaTypeDockerLayerGzip {
		t.Errorf("Layers (base first) = %+v", layers)
	}
	if m.Config() != nil || m.Image() != nil || m.Index() != nil || m.ArtifactType() != "" {
		t.Errorf("schema 1 has config/image/index/artifactType")
	}
	u, err := Parse("", readVector(t, "schema1-unsigned.json"), allowAll)
	if err != nil || u.Schema1().Signed {
		t.Fatalf("unsigned: %v, %+v", err, u)
	}
	// Either schema 1 type is accepted for either body.
	if _, err := Parse(MediaTypeDockerSchema1, readVector(t, "schema1-signed.json"), allowAll); err != nil {
		t.Errorf("signed body as unsigned type: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	m, err := Parse(MediaTypeOCIManifest, readVector(t, "oci-manifest.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Config() == nil || m.Config().Size != 7023 || len(m.Layers()) != 3 || m.Manifests() != nil {
		t.Errorf("Config %v Layers %d Manifests %v", m.Config(), len(m.Layers()), m.Manifests())
	}
	if m.Annotations()["com.example.key1"] != "value1" {
		t.Errorf("Annotations = %v", m.Annotations())
	}
	d := m.Descriptor()
	if d.MediaType != MediaTypeOCIManifest || d.Digest != m.Digest() || d.Size != m.Size() || d.ArtifactType != MediaTypeOCIConfig || d.Annotations["com.example.key2"] != "value2" {
		t.Errorf("Descriptor = %+v", d)
	}
	idx, err := Parse(MediaTypeOCIIndex, readVector(t, "oci-index.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if idx.Config() != nil || idx.Layers() != nil || len(idx.Manifests()) != 2 || idx.Index().Manifests[1].Platform.Architecture != "amd64" {
		t.Errorf("index accessors wrong")
	}
	if idx.ArtifactType() != "" {
		t.Errorf("an index's ArtifactType falls back to nothing, got %q", idx.ArtifactType())
	}
}

func TestDigestAs(t *testing.T) {
	data := readVector(t, "oci-manifest.json")
	m, err := Parse("", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	d512, err := m.DigestAs(digest.SHA512)
	if err != nil || d512 != digest.SHA512.FromBytes(data) {
		t.Errorf("DigestAs(sha512) = %s, %v", d512, err)
	}
	if d, err := m.DigestAs(digest.SHA256); err != nil || d != m.Digest() {
		t.Errorf("DigestAs(sha256) = %s, %v", d, err)
	}
	if _, err := m.DigestAs("md5"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DigestAs(md5): %v, want ErrUnsupported", err)
	}
	if err := Verify(ocispec.Descriptor{Digest: d512, Size: m.Size()}, data); err != nil {
		t.Errorf("Verify sha512: %v", err)
	}
}

func TestVerify(t *testing.T) {
	data := []byte(`{"a":"b"}`)
	good := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}
	tests := []struct {
		name string
		desc ocispec.Descriptor
		want error
	}{
		{"ok", good, nil},
		{"ok sha512", ocispec.Descriptor{Digest: digest.SHA512.FromBytes(data), Size: int64(len(data))}, nil},
		{"size", ocispec.Descriptor{Digest: good.Digest, Size: 3}, ErrSizeMismatch},
		{"digest", ocispec.Descriptor{Digest: digest.FromString("other"), Size: good.Size}, ErrDigestMismatch},
		{"sha512 digest", ocispec.Descriptor{Digest: digest.SHA512.FromString("other"), Size: good.Size}, ErrDigestMismatch},
		{"malformed", ocispec.Descriptor{Digest: "sha256:XYZ", Size: good.Size}, ErrInvalid},
		{"empty", ocispec.Descriptor{Size: good.Size}, ErrInvalid},
		{"unknown algorithm", ocispec.Descriptor{Digest: "md5:d41d8cd98f00b204e9800998ecf8427e", Size: good.Size}, ErrUnsupported},
	}
	for _, tt := range tests {
		err := Verify(tt.desc, data)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestRead(t *testing.T) {
	data := readVector(t, "oci-manifest.json")
	m, err := Read(bytes.NewReader(data), MediaTypeOCIManifest, nil)
	if err != nil || m.Digest() != digest.FromBytes(data) {
		t.Fatalf("Read: %v", err)
	}
	_, err = Read(strings.NewReader(strings.Repeat(" ", 101)), "", &Options{MaxSize: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read over the limit: %v", err)
	}
	_, err = Read(iotestErrReader{}, "", nil)
	if err == nil {
		t.Errorf("Read error not reported")
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

func TestParseDoesNotKeepInput(t *testing.T) {
	data := readVector(t, "oci-manifest.json")
	orig := bytes.Clone(data)
	m, err := Parse("", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'x'
	}
	if !bytes.Equal(m.Bytes(), orig) || m.Layers()[0].MediaType != MediaTypeOCILayerGzip {
		t.Error("Manifest changed when the caller reused its buffer")
	}
	b := m.Bytes()
	b[0] = 'x'
	if !bytes.Equal(m.Bytes(), orig) {
		t.Error("Bytes returned the Manifest's own memory")
	}
}
