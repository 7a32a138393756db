package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzParse checks that Parse never panics, keeps the bytes, digests them,
// and agrees with encoding/json on everything it accepts. flags: bit 0
// AllowUnknown, bit 1 AllowSchema1.
func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		b, err := os.ReadFile(filepath.Join("testdata", v.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.mediaType, b, uint8(3))
		f.Add("", b, uint8(2))
	}
	for _, s := range []string{
		img(`,"subject":` + child), idx(`,"artifactType":"a/b"`), imgDesc(empty),
		`{"schemaVersion":2,"artifactType":"a/b","config":` + empty + `,"layers":[]}`,
		`{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifestList + `","manifests":[]}`,
		`{"subject":` + child + `}`, `{"a":"\ud83d\ude00\u0041"}`, `[]`, `{"x":{"x":1,"x":2}}`,
	} {
		f.Add("", []byte(s), uint8(0))
		f.Add(mtImg, []byte(s), uint8(0))
		f.Add("application/vnd.example+json", []byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, mt string, data []byte, flags uint8) {
		opts := &Options{AllowUnknown: flags&1 != 0, AllowSchema1: flags&2 != 0, MaxSize: 1 << 16}
		m, err := Parse(mt, data, opts)
		if err != nil {
			if errors.Is(err, ErrInvalid) == errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %q is in no class or two", err)
			}
			return
		}
		if !bytes.Equal(m.Bytes(), data) || m.Digest() != digest.FromBytes(data) || m.Size() != int64(len(data)) {
			t.Fatal("bytes or digest changed")
		}
		if !m.IsOpaque() && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if err := sameAsEncodingJSON(m); err != nil {
			t.Fatal(err)
		}
		if err := Verify(m.Descriptor(), data); err != nil {
			t.Fatal(err)
		}
		for _, r := range m.References() {
			if r.Kind != KindLayer || !m.Deprecated() {
				if err := r.Digest.Validate(); err != nil || r.Size < 0 || !ValidMediaType(r.MediaType) {
					t.Fatalf("reference %+v is not valid", r)
				}
			}
		}
		_ = m.ArtifactType()
		if m.IsIndex() {
			_, _ = SelectPlatform(m.Index(), ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"})
		}
	})
}

// FuzzParseDigest checks the fast digest check against go-digest.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{dgA, dgEmpty, digest.SHA512.FromString("x").String(), digest.SHA384.FromString("x").String(),
		"sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "", ":", "sha256:", strings.ToUpper(dgA), "sha256+b64:abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDigest(s)
		want, werr := digest.Parse(s)
		if (err == nil) != (werr == nil) || err == nil && got != want {
			t.Fatalf("parseDigest(%q) = %q, %v; digest.Parse = %q, %v", s, got, err, want, werr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error %v has no class", err)
		}
	})
}

// FuzzParsePlatform checks that ParsePlatform never panics and that what it
// accepts formats back to itself.
func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/arm64/v8", "linux/arm", "windows(10.0.17763.1)/amd64", "Linux/ARMHF", "a/b/c/d", "x(/y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		back, err := ParsePlatform(FormatPlatform(p))
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("%q: %+v formats as %q, which parses as %+v, %v", s, p, FormatPlatform(p), back, err)
		}
		if !MatchPlatform(p, p) {
			t.Fatalf("%+v does not match itself", p)
		}
	})
}

// FuzzDecoder checks the JSON scanner against encoding/json: it accepts only
// valid JSON, rejects valid JSON only for duplicate keys or depth, and
// decodes strings identically.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2,{"b":null}]}`, `"\u00e9\ud800"`, `{"a":1,"a":2}`, `-0.5e+10`, "\"\xff\"", `[[[[]]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := decoder{s: s}
		err := d.skip()
		if err == nil {
			err = d.end()
		}
		valid := json.Valid([]byte(s))
		switch {
		case err == nil && !valid:
			t.Fatalf("accepted invalid JSON %q", s)
		case err != nil && valid && !errors.Is(err, ErrDuplicateKey) && !strings.Contains(err.Error(), "nested too deeply"):
			t.Fatalf("rejected valid JSON %q: %v", s, err)
		case err != nil && !errors.Is(err, ErrInvalid):
			t.Fatalf("error %v is not ErrInvalid", err)
		}
		if valid && strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), `"`) {
			d := decoder{s: s}
			got, err := d.str()
			var want string
			if jerr := json.Unmarshal([]byte(s), &want); err != nil || jerr != nil || got != want {
				t.Fatalf("str(%q) = %q, %v; encoding/json %q, %v", s, got, err, want, jerr)
			}
		}
	})
}
