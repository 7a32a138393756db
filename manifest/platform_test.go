package manifest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func plat(os, arch, variant string) ocispec.Platform {
	return ocispec.Platform{OS: os, Architecture: arch, Variant: variant}
}

func TestNormalizePlatform(t *testing.T) {
	tests := []struct{ in, want ocispec.Platform }{
		{plat("Linux", "X86_64", ""), plat("linux", "amd64", "")},
		{plat("linux", "x86-64", "v1"), plat("linux", "amd64", "")},
		{plat("linux", "amd64", "3"), plat("linux", "amd64", "v3")},
		{plat("linux", "i686", ""), plat("linux", "386", "")},
		{plat("linux", "aarch64", ""), plat("linux", "arm64", "")},
		{plat("linux", "arm64", "v8"), plat("linux", "arm64", "")},
		{plat("linux", "arm64", "8"), plat("linux", "arm64", "")},
		{plat("linux", "arm64", "v8.0"), plat("linux", "arm64", "")},
		{plat("linux", "arm64", "v8.2"), plat("linux", "arm64", "v8.2")},
		{plat("linux", "arm64", "V9"), plat("linux", "arm64", "v9")},
		{plat("linux", "armhf", ""), plat("linux", "arm", "v7")},
		{plat("linux", "armel", ""), plat("linux", "arm", "v6")},
		{plat("linux", "armv7l", ""), plat("linux", "arm", "v7")},
		{plat("linux", "armv6l", ""), plat("linux", "arm", "v6")},
		{plat("linux", "armv5tel", ""), plat("linux", "arm", "v5")},
		{plat("linux", "arm", ""), plat("linux", "arm", "v7")},
		{plat("linux", "arm", "6"), plat("linux", "arm", "v6")},
		{plat("macos", "arm64", ""), plat("darwin", "arm64", "")},
		{plat("linux", "riscv64", ""), plat("linux", "riscv64", "")},
		{plat("linux", "ppc64le", ""), plat("linux", "ppc64le", "")},
	}
	for _, tt := range tests {
		got := NormalizePlatform(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NormalizePlatform(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
		if again := NormalizePlatform(got); !reflect.DeepEqual(again, got) {
			t.Errorf("NormalizePlatform is not idempotent on %+v: %+v", got, again)
		}
	}
}

func TestMatchPlatform(t *testing.T) {
	win := func(version string, features ...string) ocispec.Platform {
		return ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: version, OSFeatures: features}
	}
	tests := []struct {
		want, have ocispec.Platform
		ok         bool
	}{
		{plat("linux", "amd64", ""), plat("linux", "amd64", ""), true},
		{plat("linux", "x86_64", ""), plat("linux", "amd64", ""), true},
		{plat("linux", "amd64", ""), plat("windows", "amd64", ""), false},
		{plat("linux", "amd64", ""), plat("linux", "arm64", ""), false},
		{plat("linux", "amd64", ""), plat("linux", "386", ""), false}, // no cross-architecture fallback
		{plat("linux", "arm64", ""), plat("linux", "arm", "v7"), false},
		{plat("linux", "amd64", "v3"), plat("linux", "amd64", "v2"), true},
		{plat("linux", "amd64", "v3"), plat("linux", "amd64", ""), true},
		{plat("linux", "amd64", ""), plat("linux", "amd64", "v2"), false},
		{plat("linux", "amd64", "v2"), plat("linux", "amd64", "v4"), false},
		{plat("linux", "arm64", ""), plat("linux", "arm64", "v8"), true},
		{plat("linux", "aarch64", "v8"), plat("linux", "arm64", ""), true},
		{plat("linux", "arm64", "v9"), plat("linux", "arm64", "v8"), true},
		{plat("linux", "arm64", "v8.2"), plat("linux", "arm64", "v8.1"), true},
		{plat("linux", "arm64", "v8.1"), plat("linux", "arm64", "v8.2"), false},
		{plat("linux", "arm64", ""), plat("linux", "arm64", "v9"), false},
		{plat("linux", "arm64", "vfancy"), plat("linux", "arm64", ""), false},
		{plat("linux", "arm", "v7"), plat("linux", "arm", "v6"), true},
		{plat("linux", "arm", "v7"), plat("linux", "arm", "v5"), true},
		{plat("linux", "arm", "v7"), plat("linux", "arm", ""), true},
		{plat("linux", "arm", "v6"), plat("linux", "arm", "v7"), false},
		{plat("linux", "arm", "v6"), plat("linux", "arm", ""), false}, // arm without variant is v7
		{plat("linux", "armhf", ""), plat("linux", "arm", "v7"), true},
		{plat("linux", "arm", "v8"), plat("linux", "arm", "v7"), true},
		{plat("linux", "riscv64", ""), plat("linux", "riscv64", ""), true},
		{plat("linux", "riscv64", "rva22"), plat("linux", "riscv64", ""), true},
		{plat("linux", "riscv64", ""), plat("linux", "riscv64", "rva22"), false},
		{plat("linux", "riscv64", "rva22"), plat("linux", "riscv64", "rva23"), false},
		{win("10.0.17763.5458"), win("10.0.17763.1000"), true},
		{win("10.0.17763"), win("10.0.20348.100"), false},
		{win(""), win("10.0.20348.100"), true},
		{win("10.0.17763.1"), win(""), true},
		{win("10.0.17763", "win32k"), win("10.0.17763", "win32k"), true},
		{win("10.0.17763", "win32k", "other"), win("10.0.17763", "win32k"), true},
		{win("10.0.17763"), win("10.0.17763", "win32k"), false},
		{win("10.0.17763", "win32k"), win("10.0.17763"), true},
	}
	for _, tt := range tests {
		if got := MatchPlatform(tt.want, tt.have); got != tt.ok {
			t.Errorf("MatchPlatform(want %+v, have %+v) = %v, want %v", tt.want, tt.have, got, tt.ok)
		}
	}
}

// index builds an index whose children have the given platforms; child i
// has the digest of the string "i".
func index(platforms ...*ocispec.Platform) *ocispec.Index {
	idx := &ocispec.Index{}
	for i, p := range platforms {
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType: MediaTypeOCIManifest, Digest: digest.FromString(string(rune('0' + i))), Size: 1, Platform: p,
		})
	}
	return idx
}

func ptr(p ocispec.Platform) *ocispec.Platform { return &p }

func TestSelectPlatform(t *testing.T) {
	w := ocispec.Platform{OS: "windows", Architecture: "amd64"}
	winV := func(v string, f ...string) *ocispec.Platform {
		p := w
		p.OSVersion, p.OSFeatures = v, f
		return &p
	}
	tests := []struct {
		name string
		idx  *ocispec.Index
		want ocispec.Platform
		pick int // -1: no match
	}{
		{"exact", index(ptr(plat("linux", "ppc64le", "")), ptr(plat("linux", "amd64", ""))), plat("linux", "amd64", ""), 1},
		{"first of equals", index(ptr(plat("linux", "amd64", "")), ptr(plat("linux", "amd64", ""))), plat("linux", "amd64", ""), 0},
		{"skips children without platform", index(nil, ptr(plat("linux", "amd64", ""))), plat("linux", "amd64", ""), 1},
		{"skips attestations", index(ptr(plat("unknown", "unknown", "")), ptr(plat("linux", "amd64", ""))), plat("linux", "amd64", ""), 1},
		{"no match", index(ptr(plat("linux", "arm64", ""))), plat("linux", "amd64", ""), -1},
		{"empty index", index(), plat("linux", "amd64", ""), -1},
		{"arm v7 prefers v7", index(ptr(plat("linux", "arm", "v6")), ptr(plat("linux", "arm", "v7")), ptr(plat("linux", "arm", "v5"))), plat("linux", "arm", "v7"), 1},
		{"arm v7 takes the closest lower", index(ptr(plat("linux", "arm", "v5")), ptr(plat("linux", "arm", "v6")), ptr(plat("linux", "arm", "v8"))), plat("linux", "arm", "v7"), 1},
		{"arm without variant is v7", index(ptr(plat("linux", "arm", "v6")), ptr(plat("linux", "arm", ""))), plat("linux", "armhf", ""), 1},
		{"arm64 v8 is arm64", index(ptr(plat("linux", "arm", "v7")), ptr(plat("linux", "arm64", "v8"))), plat("linux", "aarch64", ""), 1},
		{"arm64 v9 runs v8", index(ptr(plat("linux", "arm64", ""))), plat("linux", "arm64", "v9"), 0},
		{"arm64 does not take arm", index(ptr(plat("linux", "arm", "v7"))), plat("linux", "arm64", ""), -1},
		{"amd64 v3 prefers v3", index(ptr(plat("linux", "amd64", "")), ptr(plat("linux", "amd64", "v3")), ptr(plat("linux", "amd64", "v2"))), plat("linux", "amd64", "v3"), 1},
		{"amd64 v3 takes v2 over v1", index(ptr(plat("linux", "amd64", "")), ptr(plat("linux", "amd64", "v4")), ptr(plat("linux", "amd64", "v2"))), plat("linux", "amd64", "v3"), 2},
		{"amd64 takes v1 only", index(ptr(plat("linux", "amd64", "v2")), ptr(plat("linux", "amd64", "v1"))), plat("linux", "amd64", ""), 1},
		{"windows build", index(winV("10.0.17763.100"), winV("10.0.20348.200")), *winV("10.0.20348.300"), 1},
		{"windows exact version preferred", index(winV("10.0.20348.100"), winV("10.0.20348.300")), *winV("10.0.20348.300"), 1},
		{"windows any version", index(winV("10.0.17763.100"), winV("10.0.20348.200")), w, 0},
		{"windows no build", index(winV("10.0.17763.100")), *winV("10.0.20348.1"), -1},
		{"features must be offered", index(winV("10.0.17763.1", "win32k"), winV("10.0.17763.1")), *winV("10.0.17763.1"), 1},
		{"features offered", index(winV("10.0.17763.1", "win32k")), *winV("10.0.17763.1", "win32k"), 0},
	}
	for _, tt := range tests {
		got, err := SelectPlatform(tt.idx, tt.want)
		if tt.pick < 0 {
			if !errors.Is(err, ErrNoMatchingPlatform) || !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: got %v, %v; want ErrNoMatchingPlatform", tt.name, got.Platform, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if want := tt.idx.Manifests[tt.pick]; got.Digest != want.Digest {
			t.Errorf("%s: picked %+v, want child %d %+v", tt.name, got.Platform, tt.pick, want.Platform)
		}
	}
	if _, err := SelectPlatform(nil, plat("linux", "amd64", "")); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil index: %v", err)
	}
	if _, err := SelectPlatform(index(), ocispec.Platform{OS: "linux"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no architecture: %v", err)
	}
}

func TestSelectPlatformFromParsedIndex(t *testing.T) {
	m, err := Parse("", readVector(t, "docker-manifest-list.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := SelectPlatform(m.Index(), plat("linux", "ppc64le", ""))
	if err != nil || d.Digest != "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f" {
		t.Errorf("SelectPlatform = %v, %v", d.Digest, err)
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want ocispec.Platform
		ok   bool
	}{
		{"linux/amd64", plat("linux", "amd64", ""), true},
		{"linux/arm64/v8", plat("linux", "arm64", ""), true},
		{"linux/arm/v6", plat("linux", "arm", "v6"), true},
		{"linux/arm", plat("linux", "arm", "v7"), true},
		{"Linux/x86_64", plat("linux", "amd64", ""), true},
		{"windows(10.0.17763.5458)/amd64", ocispec.Platform{OS: "windows", OSVersion: "10.0.17763.5458", Architecture: "amd64"}, true},
		{"linux", ocispec.Platform{}, false},
		{"linux/", ocispec.Platform{}, false},
		{"/amd64", ocispec.Platform{}, false},
		{"linux/arm/", ocispec.Platform{}, false},
		{"linux/arm/v7/x", ocispec.Platform{}, false},
		{"windows(10.0/amd64", ocispec.Platform{}, false},
		{"windows()/amd64", ocispec.Platform{}, false},
		{"linux/am d64", ocispec.Platform{}, false},
		{"", ocispec.Platform{}, false},
	}
	for _, tt := range tests {
		got, err := ParsePlatform(tt.in)
		if !tt.ok {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParsePlatform(%q) = %+v, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if back, err := ParsePlatform(FormatPlatform(got)); err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("ParsePlatform(FormatPlatform(%+v)) = %+v, %v", got, back, err)
		}
	}
}
