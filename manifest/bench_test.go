package manifest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// typicalManifest is an OCI image manifest of about 2 KiB: a config,
// eight gzip layers, four with annotations, and manifest annotations.
func typicalManifest() []byte {
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + digest.FromString("config").String() + `","size":7023},"layers":[`)
	for i := range 8 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d`, digest.FromString(fmt.Sprint("layer", i)), 31000+i*977)
		if i%2 == 0 {
			fmt.Fprintf(&b, `,"annotations":{"org.opencontainers.image.title":"layer-%d.tar.gz"}`, i)
		}
		b.WriteString("}")
	}
	b.WriteString(`],"annotations":{"org.opencontainers.image.created":"2024-05-06T07:08:09Z",` +
		`"org.opencontainers.image.source":"https://github.com/example/project","org.opencontainers.image.licenses":"Apache-2.0","org.opencontainers.image.revision":"0123456789abcdef0123456789abcdef01234567"}}`)
	return []byte(b.String())
}

// bigIndex is an OCI index of 10,000 children, each with a platform and
// annotations, padded to just under 4 MiB.
func bigIndex() []byte {
	const n = 10000
	arches := []struct{ arch, variant string }{{"amd64", ""}, {"arm64", "v8"}, {"arm", "v7"}, {"ppc64le", ""}, {"s390x", ""}}
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	pad := strings.Repeat("x", 120)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		a := arches[i%len(arches)]
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,`+
			`"platform":{"architecture":"%s","os":"linux"`, digest.FromString(fmt.Sprint(i)), 1000+i, a.arch)
		if a.variant != "" {
			fmt.Fprintf(&b, `,"variant":"%s"`, a.variant)
		}
		fmt.Fprintf(&b, `},"annotations":{"org.opencontainers.image.ref.name":"build-%05d","com.example.note":"%s"}}`, i, pad)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkParseImageManifest2KiB(b *testing.B) {
	data := typicalManifest()
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(MediaTypeOCIManifest, data, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("baseline-json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var m ocispec.Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

func BenchmarkParseIndex10k(b *testing.B) {
	data := bigIndex()
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			m, err := Parse(MediaTypeOCIIndex, data, nil)
			if err != nil || len(m.Manifests()) != 10000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
	b.Run("baseline-json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var m ocispec.Index
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
	})
}

func TestBenchmarkVectors(t *testing.T) {
	small, big := typicalManifest(), bigIndex()
	t.Logf("typical manifest: %d bytes; index: %d bytes", len(small), len(big))
	if len(small) < 1800 || len(small) > 2300 {
		t.Errorf("typical manifest is %d bytes, want about 2 KiB", len(small))
	}
	if len(big) > DefaultMaxSize || len(big) < DefaultMaxSize*9/10 {
		t.Errorf("big index is %d bytes, want just under 4 MiB", len(big))
	}
	for _, data := range [][]byte{small, big} {
		m, err := Parse("", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameAsEncodingJSON(m); err != nil {
			t.Error(err)
		}
	}
}
