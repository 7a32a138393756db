package manifest

import (
	"strings"
	"testing"
)

func TestLayerMediaTypes(t *testing.T) {
	tests := []struct {
		mt                         string
		layer, gzip, zstd, foreign bool
	}{
		{MediaTypeOCILayer, true, false, false, false},
		{MediaTypeOCILayerGzip, true, true, false, false},
		{MediaTypeOCILayerZstd, true, false, true, false},
		{MediaTypeOCIForeignLayer, true, false, false, true},
		{MediaTypeOCIForeignLayerGzip, true, true, false, true},
		{MediaTypeOCIForeignLayerZstd, true, false, true, true},
		{MediaTypeDockerLayer, true, false, false, false},
		{MediaTypeDockerLayerGzip, true, true, false, false},
		{MediaTypeDockerLayerZstd, true, false, true, false},
		{MediaTypeDockerForeignLayer, true, false, false, true},
		{MediaTypeDockerForeignLayerGzip, true, true, false, true},
		{MediaTypeDockerLayerGzip + "; foo=bar", true, true, false, false},
		{MediaTypeHelmChart, false, true, false, false},
		{MediaTypeHelmProvenance, false, false, false, false},
		{MediaTypeOCIConfig, false, false, false, false},
		{"application/vnd.example.blob+zstd", false, false, true, false},
		{"", false, false, false, false},
	}
	for _, tt := range tests {
		if IsLayerMediaType(tt.mt) != tt.layer || IsGzip(tt.mt) != tt.gzip || IsZstd(tt.mt) != tt.zstd || IsForeign(tt.mt) != tt.foreign {
			t.Errorf("%q: layer %v gzip %v zstd %v foreign %v", tt.mt, IsLayerMediaType(tt.mt), IsGzip(tt.mt), IsZstd(tt.mt), IsForeign(tt.mt))
		}
	}
}

func TestManifestMediaTypes(t *testing.T) {
	tests := []struct {
		mt              string
		manifest, index bool
	}{
		{MediaTypeOCIManifest, true, false},
		{MediaTypeOCIIndex, true, true},
		{MediaTypeDockerManifest, true, false},
		{MediaTypeDockerManifestList, true, true},
		{MediaTypeDockerSchema1, true, false},
		{MediaTypeDockerSchema1Signed, true, false},
		{" " + MediaTypeOCIIndex + "; charset=utf-8", true, true},
		{MediaTypeOCIConfig, false, false},
		{MediaTypeOCILayerGzip, false, false},
		{"application/json", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if IsManifestMediaType(tt.mt) != tt.manifest || IsIndexMediaType(tt.mt) != tt.index {
			t.Errorf("%q: manifest %v index %v", tt.mt, IsManifestMediaType(tt.mt), IsIndexMediaType(tt.mt))
		}
	}
}

func TestValidMediaType(t *testing.T) {
	valid := []string{
		"a/b", "application/vnd.oci.image.manifest.v1+json", "A1/B2", "application/x!#$&-^_.+",
		"application/" + strings.Repeat("b", 127), strings.Repeat("a", 127) + "/b",
	}
	invalid := []string{
		"", "a", "a/", "/b", "a/b/c", "a b/c", "a/b c", "a/b;c=d", "application/json; charset=utf-8",
		"-a/b", "a/.b", "a/b*", "é/b", "application/" + strings.Repeat("b", 128), "a/b\n",
	}
	for _, s := range valid {
		if !ValidMediaType(s) {
			t.Errorf("ValidMediaType(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if ValidMediaType(s) {
			t.Errorf("ValidMediaType(%q) = true", s)
		}
	}
}
