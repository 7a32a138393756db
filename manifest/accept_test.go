package manifest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestParseAccepts covers what the specifications allow and a strict
// parser could wrongly reject. Every accepted image or index must also read
// the same through encoding/json.
func TestParseAccepts(t *testing.T) {
	dg512 := digest.SHA512.FromString("x").String()
	tests := []struct {
		name  string
		mt    string
		body  string
		opts  *Options
		check func(*Manifest) bool
	}{
		{"OCI manifest without mediaType field", mtImg, `{"schemaVersion":2,"config":` + cfg + `,"layers":[` + lay + `]}`, nil,
			func(m *Manifest) bool { return m.MediaType() == mtImg && m.Image().MediaType == "" }},
		{"OCI index without mediaType field", mtIdx, `{"schemaVersion":2,"manifests":[` + child + `]}`, nil,
			func(m *Manifest) bool { return m.IsIndex() }},
		{"no layers", mtImg, `{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`, nil,
			func(m *Manifest) bool { return len(m.References()) == 1 && m.Layers() != nil }},
		{"no children", mtIdx, `{"schemaVersion":2,"manifests":[]}`, nil,
			func(m *Manifest) bool { return len(m.References()) == 0 }},
		{"white space around", mtImg, " \t\r\n" + img("") + " \n\t\r", nil, nil},
		{"unknown fields of every type", mtImg, img(`,"x":{"a":[1,-2.5e+3,true,false,null,"s",{}],"b":{}},"manifests":"not ours","y":[]`), nil, nil},
		{"unknown fields in descriptors and platforms", mtIdx, `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgA + `","size":1,"x":1,"platform":{"os":"linux","architecture":"amd64","features":["sse4"],"y":{}}}]}`, nil, nil},
		{"null optional fields", mtImg, img(`,"subject":null,"annotations":null,"artifactType":null`), nil,
			func(m *Manifest) bool { return m.Subject() == nil && m.Annotations() == nil }},
		{"layers of any media type", mtImg, imgDesc(`{"mediaType":"application/vnd.example.anything+tar","digest":"` + dgB + `","size":0}`), nil, nil},
		{"zstd and foreign layers", mtImg, imgDesc(`{"mediaType":"` + MediaTypeOCILayerZstd + `","digest":"` + dgB + `","size":5},{"mediaType":"` + MediaTypeOCIForeignLayerGzip + `","digest":"` + dgA + `","size":5,"urls":["https://example.com/l.tgz"]}`), nil,
			func(m *Manifest) bool { r := m.References(); return !r[1].Foreign() && r[2].Foreign() }},
		{"sha512 digests", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dg512 + `","size":1}`), nil,
			func(m *Manifest) bool { return m.Layers()[0].Digest.String() == dg512 }},
		{"subject to anything", mtImg, img(`,"subject":{"mediaType":"application/vnd.example+json","digest":"` + dg512 + `","size":0}`), nil,
			func(m *Manifest) bool { return m.Subject().Digest.String() == dg512 }},
		{"artifact without layers", mtImg, `{"schemaVersion":2,"artifactType":"application/vnd.example.sig","config":` + empty + `,"layers":[]}`, nil,
			func(m *Manifest) bool { return m.ArtifactType() == "application/vnd.example.sig" }},
		{"artifactType with an image config", mtImg, img(`,"artifactType":"application/vnd.example.thing"`), nil,
			func(m *Manifest) bool { return m.ArtifactType() == "application/vnd.example.thing" }},
		{"docker manifest with empty config and no artifactType", MediaTypeDockerManifest, `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifest + `","config":` + empty + `,"layers":[]}`, nil, nil},
		{"escapes in strings", mtImg, img(`,"annotations":{"q\"uote":"a\\b\/c\b\f\n\r\t\u00e9\ud83d\ude00","\u006b":"v"}`), nil,
			func(m *Manifest) bool {
				return m.Annotations()["q\"uote"] == "a\\b/c\b\f\n\r\t\u00e9\U0001F600" && m.Annotations()["k"] == "v"
			}},
		{"lone surrogates become U+FFFD", mtImg, img(`,"annotations":{"a":"\ud800x","b":"\udc00","c":"\ud800\u0041"}`), nil,
			func(m *Manifest) bool {
				a := m.Annotations()
				return a["a"] == "\uFFFDx" && a["b"] == "\uFFFD" && a["c"] == "\uFFFDA"
			}},
		{"invalid UTF-8 becomes U+FFFD", mtImg, img(`,"annotations":{"a":"x` + "\xff" + `y"}`), nil,
			func(m *Manifest) bool { return m.Annotations()["a"] == "x\uFFFDy" }},
		{"raw UTF-8", mtImg, img(`,"annotations":{"é":"日本"}`), nil,
			func(m *Manifest) bool { return m.Annotations()["é"] == "日本" }},
		{"same key in different objects", mtImg, img(`,"annotations":{"mediaType":"x","size":"y"}`), nil, nil},
		{"case variants of unknown keys", mtImg, img(`,"x":1,"X":2`), nil, nil},
		{"negative zero size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":-0}`), nil, nil},
		{"largest size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":9223372036854775807}`), nil, nil},
		{"declared with parameters", mtImg + ` ; charset="utf-8"`, img(""), nil,
			func(m *Manifest) bool { return m.MediaType() == mtImg }},
		{"application/json is detected", "application/json", img(""), nil,
			func(m *Manifest) bool { return m.MediaType() == mtImg }},
		{"nesting at the limit", mtImg, img(`,"x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1)), nil, nil},
		{"at the size limit", mtImg, img(""), &Options{MaxSize: int64(len(img("")))}, nil},

		// Opaque pass-through.
		{"opaque non-JSON", "application/vnd.example.thing", "\x00\x01 binary", &Options{AllowUnknown: true},
			func(m *Manifest) bool {
				return m.IsOpaque() && m.MediaType() == "application/vnd.example.thing" && m.References() == nil && m.Config() == nil
			}},
		{"opaque JSON with a subject", "application/vnd.example.thing+json", `{"subject":` + child + `,"artifactType":"a/b","annotations":{"k":"v"},"whatever":[1]}`, &Options{AllowUnknown: true},
			func(m *Manifest) bool {
				r := m.References()
				return m.IsOpaque() && len(r) == 1 && r[0].Kind == KindSubject && m.ArtifactType() == "a/b" && m.Annotations()["k"] == "v"
			}},
		{"opaque JSON with a malformed subject", "application/vnd.example.thing+json", `{"subject":{"digest":"x"}}`, &Options{AllowUnknown: true},
			func(m *Manifest) bool { return m.IsOpaque() && m.Subject() == nil }},
		{"opaque with its own mediaType", "application/vnd.example.thing+json", `{"mediaType":"application/vnd.example.thing+json"}`, &Options{AllowUnknown: true},
			func(m *Manifest) bool { return m.IsOpaque() }},
		{"detected opaque", "", `{"mediaType":"application/vnd.example.thing+json","x":1}`, &Options{AllowUnknown: true},
			func(m *Manifest) bool { return m.IsOpaque() && m.MediaType() == "application/vnd.example.thing+json" }},
		{"application/json opaque", "application/json", `[1,2]`, &Options{AllowUnknown: true},
			func(m *Manifest) bool { return m.IsOpaque() && m.MediaType() == "application/json" }},
	}
	for _, tt := range tests {
		m, err := Parse(tt.mt, []byte(tt.body), tt.opts)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !bytes.Equal(m.Bytes(), []byte(tt.body)) || m.Digest() != digest.FromString(tt.body) {
			t.Errorf("%s: bytes or digest changed", tt.name)
		}
		if tt.check != nil && !tt.check(m) {
			t.Errorf("%s: unexpected result %+v", tt.name, m)
		}
		if err := sameAsEncodingJSON(m); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestReferencesCopyDescriptors(t *testing.T) {
	m, err := Parse("", []byte(img(`,"subject":`+child)), nil)
	if err != nil {
		t.Fatal(err)
	}
	refs := m.References()
	want := []struct {
		kind Kind
		dg   string
	}{{KindConfig, dgA}, {KindLayer, dgB}, {KindSubject, dgA}}
	if len(refs) != len(want) {
		t.Fatalf("References = %+v", refs)
	}
	for i, w := range want {
		if refs[i].Kind != w.kind || refs[i].Digest.String() != w.dg || refs[i].Kind.String() != w.kind.String() {
			t.Errorf("reference %d = %v %s, want %v %s", i, refs[i].Kind, refs[i].Digest, w.kind, w.dg)
		}
	}
	refs[0].Digest = "changed"
	if m.Config().Digest == "changed" {
		t.Error("References shares descriptors with the manifest")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindConfig: "config", KindLayer: "layer", KindManifest: "manifest", KindSubject: "subject", 0: "Kind(0)"} {
		if k.String() != want {
			t.Errorf("%d: %q, want %q", int(k), k.String(), want)
		}
	}
}

// TestDecodeDescriptorMatchesJSON pins a descriptor with every field
// against encoding/json.
func TestDecodeDescriptorMatchesJSON(t *testing.T) {
	body := `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgEmpty + `","size":2,"urls":["https://a.example/x","http://b.example/y?z=1"],"annotations":{"k":"v"},"data":"e30=","platform":{"architecture":"arm","os":"linux","os.version":"1.2","os.features":["f1","f2"],"variant":"v7"},"artifactType":"c/d"}]}`
	m, err := Parse(mtIdx, []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameAsEncodingJSON(m); err != nil {
		t.Error(err)
	}
}
