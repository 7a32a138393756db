package manifest

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Building blocks for hand-made vectors.
const (
	dgA     = "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
	dgB     = "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"
	dgEmpty = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	cfg     = `{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":7023}`
	lay     = `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + dgB + `","size":32654}`
	child   = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dgA + `","size":7023}`
	empty   = `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + dgEmpty + `","size":2}`
	mtImg   = MediaTypeOCIManifest
	mtIdx   = MediaTypeOCIIndex
)

// img is an OCI image manifest with extra top-level members appended.
func img(extra string) string {
	return `{"schemaVersion":2,"mediaType":"` + mtImg + `","config":` + cfg + `,"layers":[` + lay + `]` + extra + `}`
}

// imgDesc is an OCI image manifest whose only layer is desc.
func imgDesc(desc string) string {
	return `{"schemaVersion":2,"config":` + cfg + `,"layers":[` + desc + `]}`
}

// idx is an OCI index with extra top-level members appended.
func idx(extra string) string {
	return `{"schemaVersion":2,"mediaType":"` + mtIdx + `","manifests":[` + child + `]` + extra + `}`
}

func TestParseRejects(t *testing.T) {
	s1 := `{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[{"blobSum":"` + dgA + `"}],"history":[{"v1Compatibility":"{}"}]}`
	tests := []struct {
		name string
		mt   string
		body string
		opts *Options
		want []error
	}{
		// Size limit, before parsing.
		{"over the limit", mtImg, img(""), &Options{MaxSize: 100}, []error{ErrTooLarge}},
		{"over the default limit", mtImg, strings.Repeat(" ", DefaultMaxSize+1), nil, []error{ErrTooLarge}},

		// JSON syntax and strictness.
		{"empty", mtImg, "", nil, []error{ErrMalformed, ErrInvalid}},
		{"truncated", mtImg, img("")[:50], nil, []error{ErrMalformed}},
		{"not an object", mtImg, `[]`, nil, []error{ErrInvalid}},
		{"null", mtImg, `null`, nil, []error{ErrInvalid}},
		{"trailing object", mtImg, img("") + `{}`, nil, []error{ErrTrailingData, ErrInvalid}},
		{"trailing garbage", mtImg, img("") + "\n x", nil, []error{ErrTrailingData}},
		{"byte order mark", mtImg, "\ufeff" + img(""), nil, []error{ErrMalformed}},
		{"trailing comma", mtImg, img(","), nil, []error{ErrMalformed}},
		{"trailing comma in array", mtImg, imgDesc(lay + ","), nil, []error{ErrMalformed}},
		{"single quotes", mtImg, `{'schemaVersion':2}`, nil, []error{ErrMalformed}},
		{"control character in string", mtImg, img(`,"x":"a` + "\n" + `b"`), nil, []error{ErrMalformed}},
		{"bad escape", mtImg, img(`,"x":"\q"`), nil, []error{ErrMalformed}},
		{"bad unicode escape", mtImg, img(`,"x":"\u12G4"`), nil, []error{ErrMalformed}},
		{"bad number", mtImg, img(`,"x":01`), nil, []error{ErrMalformed}},
		{"bad literal", mtImg, img(`,"x":nul`), nil, []error{ErrMalformed}},
		{"nested too deeply", mtImg, img(`,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100)), nil, []error{ErrMalformed}},
		{"duplicate top-level key", mtImg, img(`,"schemaVersion":2`), nil, []error{ErrDuplicateKey, ErrInvalid}},
		{"duplicate unknown key", mtImg, img(`,"x":1,"x":2`), nil, []error{ErrDuplicateKey}},
		{"duplicate key written with an escape", mtImg, img(`,"\u0073chemaVersion":2`), nil, []error{ErrDuplicateKey}},
		{"duplicate key in a descriptor", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1,"size":2}`), nil, []error{ErrDuplicateKey}},
		{"duplicate annotation", mtImg, img(`,"annotations":{"a":"1","b":"2","a":"3"}`), nil, []error{ErrDuplicateKey}},
		{"duplicate key deep in an unknown value", mtImg, img(`,"x":[{"y":{"z":1,"z":1}}]`), nil, []error{ErrDuplicateKey}},
		{"duplicate key among many", mtImg, img(`,"x":{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k3":3}`), nil, []error{ErrDuplicateKey}},
		{"key differing in case", mtImg, img(`,"MediaType":"` + mtIdx + `"`), nil, []error{ErrDuplicateKey}},
		{"key differing in case, alone", mtImg, `{"schemaVersion":2,"Config":` + cfg + `,"layers":[]}`, nil, []error{ErrDuplicateKey}},

		// schemaVersion.
		{"no schemaVersion", mtImg, `{"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"schemaVersion 1", mtImg, `{"schemaVersion":1,"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"schemaVersion 3", mtIdx, `{"schemaVersion":3,"manifests":[]}`, nil, []error{ErrInvalid}},
		{"schemaVersion string", mtImg, `{"schemaVersion":"2","config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"schemaVersion fraction", mtImg, `{"schemaVersion":2.0,"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"schemaVersion huge", mtImg, `{"schemaVersion":99999999999999999999,"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},

		// Required fields.
		{"no config", mtImg, `{"schemaVersion":2,"layers":[]}`, nil, []error{ErrInvalid}},
		{"null config", mtImg, `{"schemaVersion":2,"config":null,"layers":[]}`, nil, []error{ErrInvalid}},
		{"no layers", mtImg, `{"schemaVersion":2,"config":` + cfg + `}`, nil, []error{ErrInvalid}},
		{"layers not an array", mtImg, `{"schemaVersion":2,"config":` + cfg + `,"layers":{}}`, nil, []error{ErrInvalid}},
		{"no manifests", mtIdx, `{"schemaVersion":2}`, nil, []error{ErrInvalid}},
		{"index body as manifest", mtImg, `{"schemaVersion":2,"manifests":[` + child + `]}`, nil, []error{ErrInvalid}},
		{"manifest body as index", mtIdx, `{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},

		// Descriptors.
		{"descriptor without mediaType", mtImg, imgDesc(`{"digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"descriptor without digest", mtImg, imgDesc(`{"mediaType":"a/b","size":1}`), nil, []error{ErrInvalid}},
		{"descriptor without size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `"}`), nil, []error{ErrInvalid}},
		{"negative size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":-1}`), nil, []error{ErrInvalid}},
		{"fractional size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1.5}`), nil, []error{ErrInvalid}},
		{"exponent size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1e3}`), nil, []error{ErrInvalid}},
		{"size out of range", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":9223372036854775808}`), nil, []error{ErrInvalid}},
		{"uppercase digest", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + strings.ToUpper(dgB) + `","size":1}`), nil, []error{ErrInvalidDigest, ErrInvalid, digest.ErrDigestInvalidFormat}},
		{"short digest", mtImg, imgDesc(`{"mediaType":"a/b","digest":"sha256:abc","size":1}`), nil, []error{ErrInvalidDigest, digest.ErrDigestInvalidLength}},
		{"digest without algorithm", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB[7:] + `","size":1}`), nil, []error{ErrInvalidDigest, digest.ErrDigestInvalidFormat}},
		{"digest of unknown algorithm", mtImg, imgDesc(`{"mediaType":"a/b","digest":"md5:d41d8cd98f00b204e9800998ecf8427e","size":1}`), nil, []error{ErrInvalidDigest, ErrInvalid, digest.ErrDigestUnsupported}},
		{"media type without subtype", mtImg, imgDesc(`{"mediaType":"application","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"media type with empty subtype", mtImg, imgDesc(`{"mediaType":"application/","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"media type with space", mtImg, imgDesc(`{"mediaType":"application/a b","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"media type with parameters", mtImg, imgDesc(`{"mediaType":"application/json; charset=utf-8","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"media type starting with a symbol", mtImg, imgDesc(`{"mediaType":"+a/b","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"media type too long", mtImg, imgDesc(`{"mediaType":"a/` + strings.Repeat("b", 128) + `","digest":"` + dgB + `","size":1}`), nil, []error{ErrInvalid}},
		{"relative url", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1,"urls":["layer.tar"]}`), nil, []error{ErrInvalid}},
		{"url not a string", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1,"urls":[1]}`), nil, []error{ErrInvalid}},
		{"data not base64", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgEmpty + `","size":2,"data":"!!"}`), nil, []error{ErrInvalid}},
		{"data of the wrong size", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgEmpty + `","size":3,"data":"e30="}`), nil, []error{ErrInvalid}},
		{"data of the wrong digest", mtImg, imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":2,"data":"e30="}`), nil, []error{ErrInvalid}},
		{"annotation not a string", mtImg, img(`,"annotations":{"a":1}`), nil, []error{ErrInvalid}},
		{"annotation null", mtImg, img(`,"annotations":{"a":null}`), nil, []error{ErrInvalid}},
		{"malformed artifactType", mtImg, img(`,"artifactType":"sbom"`), nil, []error{ErrInvalid}},
		{"malformed subject", mtImg, img(`,"subject":{"mediaType":"a/b"}`), nil, []error{ErrInvalid}},
		{"subject not an object", mtImg, img(`,"subject":"` + dgA + `"`), nil, []error{ErrInvalid}},
		{"platform without os", mtIdx, `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgA + `","size":1,"platform":{"architecture":"amd64"}}]}`, nil, []error{ErrInvalid}},
		{"platform without architecture", mtIdx, `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgA + `","size":1,"platform":{"os":"linux"}}]}`, nil, []error{ErrInvalid}},
		{"platform features not strings", mtIdx, `{"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":"` + dgA + `","size":1,"platform":{"os":"linux","architecture":"amd64","os.features":[true]}}]}`, nil, []error{ErrInvalid}},

		// Media type agreement.
		{"body says index, declared manifest", mtImg, `{"schemaVersion":2,"mediaType":"` + mtIdx + `","config":` + cfg + `,"layers":[]}`, nil, []error{ErrMediaTypeMismatch, ErrInvalid}},
		{"body says manifest, declared index", mtIdx, `{"schemaVersion":2,"mediaType":"` + mtImg + `","manifests":[]}`, nil, []error{ErrMediaTypeMismatch}},
		{"body says docker, declared OCI", mtImg, `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifest + `","config":` + cfg + `,"layers":[]}`, nil, []error{ErrMediaTypeMismatch}},
		{"body says OCI, declared docker", MediaTypeDockerManifest, img(""), nil, []error{ErrMediaTypeMismatch}},
		{"docker manifest without mediaType", MediaTypeDockerManifest, `{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"docker list without mediaType", MediaTypeDockerManifestList, `{"schemaVersion":2,"manifests":[]}`, nil, []error{ErrInvalid}},
		{"opaque whose body names another type", "application/vnd.example.thing+json", img(""), &Options{AllowUnknown: true}, []error{ErrMediaTypeMismatch}},

		// Artifacts.
		{"empty config without artifactType", mtImg, `{"schemaVersion":2,"config":` + empty + `,"layers":[]}`, nil, []error{ErrInvalid}},
		{"empty config of the wrong size", mtImg, `{"schemaVersion":2,"artifactType":"a/b","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + dgEmpty + `","size":3},"layers":[]}`, nil, []error{ErrInvalid}},
		{"empty config of the wrong digest", mtImg, `{"schemaVersion":2,"artifactType":"a/b","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + dgA + `","size":2},"layers":[]}`, nil, []error{ErrInvalid}},
		{"empty layer of the wrong digest", mtImg, `{"schemaVersion":2,"artifactType":"a/b","config":` + empty + `,"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + dgA + `","size":2}]}`, nil, []error{ErrInvalid}},

		// Media types Parse does not take.
		{"unknown media type", "application/vnd.example.thing+json", img(""), nil, []error{ErrUnknownMediaType, ErrUnsupported}},
		{"layer media type", MediaTypeOCILayerGzip, img(""), nil, []error{ErrUnknownMediaType}},
		{"malformed media type", "not a media type", img(""), nil, []error{ErrInvalid}},
		{"malformed media type, allowed unknown", "text", img(""), &Options{AllowUnknown: true}, []error{ErrInvalid}},
		{"schema 1 not allowed", MediaTypeDockerSchema1, s1, nil, []error{ErrSchema1, ErrUnsupported}},
		{"detected schema 1 not allowed", "", s1, nil, []error{ErrSchema1}},

		// Detection.
		{"nothing to detect", "", `{"schemaVersion":2}`, nil, []error{ErrNoMediaType, ErrInvalid}},
		{"both config and manifests", "", `{"schemaVersion":2,"config":` + cfg + `,"manifests":[]}`, nil, []error{ErrNoMediaType}},
		{"detect from malformed JSON", "", `{"schemaVersion":2,`, nil, []error{ErrMalformed}},
		{"detect from non-JSON", "", `hello`, nil, []error{ErrMalformed}},
		{"detect with trailing data", "", img("") + "x", nil, []error{ErrTrailingData}},
		{"detected unknown type", "", `{"schemaVersion":2,"mediaType":"application/x.thing"}`, nil, []error{ErrUnknownMediaType}},
		{"detected mediaType malformed", "", `{"schemaVersion":2,"mediaType":"thing"}`, nil, []error{ErrInvalid}},
		{"application/json undetectable", "application/json", `{"a":1}`, nil, []error{ErrNoMediaType}},
		{"application/json malformed", "application/json", `{"a":`, nil, []error{ErrMalformed}},

		// Schema 1.
		{"schema 1 with schemaVersion 2", MediaTypeDockerSchema1, strings.Replace(s1, `"schemaVersion":1`, `"schemaVersion":2`, 1), allowAll, []error{ErrInvalid}},
		{"schema 1 without schemaVersion", MediaTypeDockerSchema1, strings.Replace(s1, `"schemaVersion":1,`, ``, 1), allowAll, []error{ErrInvalid}},
		{"schema 1 without layers", MediaTypeDockerSchema1, `{"schemaVersion":1,"fsLayers":[],"history":[]}`, allowAll, []error{ErrInvalid}},
		{"schema 1 history mismatch", MediaTypeDockerSchema1, strings.Replace(s1, `[{"v1Compatibility":"{}"}]`, `[]`, 1), allowAll, []error{ErrInvalid}},
		{"schema 1 bad blobSum", MediaTypeDockerSchema1, strings.Replace(s1, dgA, "sha256:zz", 1), allowAll, []error{ErrInvalidDigest, digest.ErrDigestInvalidLength}},
		{"schema 1 fsLayer without blobSum", MediaTypeDockerSchema1, strings.Replace(s1, `"blobSum":"`+dgA+`"`, `"x":1`, 1), allowAll, []error{ErrInvalid}},
		{"schema 1 history without v1Compatibility", MediaTypeDockerSchema1, strings.Replace(s1, `"v1Compatibility":"{}"`, ``, 1), allowAll, []error{ErrInvalid}},
		{"schema 1 duplicate key", MediaTypeDockerSchema1, strings.Replace(s1, `"name":"a"`, `"name":"a","name":"c"`, 1), allowAll, []error{ErrDuplicateKey}},
		{"schema 1 trailing data", MediaTypeDockerSchema1Signed, s1 + "]", allowAll, []error{ErrTrailingData}},
	}
	for _, tt := range tests {
		m, err := Parse(tt.mt, []byte(tt.body), tt.opts)
		if err == nil {
			t.Errorf("%s: accepted as %s", tt.name, m.MediaType())
			continue
		}
		for _, want := range tt.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: error %q is not %q", tt.name, err, want)
			}
		}
		if !strings.HasPrefix(err.Error(), "manifest: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

// TestErrorsKeepCause: the errors of digests and inline data wrap the
// parser's own error as well as their class, so callers can tell a digest
// of the wrong length from one of an unknown algorithm.
func TestErrorsKeepCause(t *testing.T) {
	dataDesc := imgDesc(`{"mediaType":"a/b","digest":"` + dgB + `","size":1,"data":"not base64!"}`)
	if _, err := Parse(MediaTypeOCIManifest, []byte(dataDesc), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad inline data: %v, want ErrInvalid", err)
	} else if ce := new(base64.CorruptInputError); !errors.As(err, ce) {
		t.Errorf("bad inline data: %v does not keep base64's error", err)
	}
	for _, tt := range []struct {
		digest string
		want   []error
	}{
		{"sha256:XYZ", []error{ErrInvalid, digest.ErrDigestInvalidLength}},
		{"SHA256:" + dgB[7:], []error{ErrInvalid, digest.ErrDigestInvalidFormat}},
		{"md5:d41d8cd98f00b204e9800998ecf8427e", []error{ErrUnsupported, digest.ErrDigestUnsupported}},
	} {
		err := Verify(ocispec.Descriptor{Digest: digest.Digest(tt.digest), Size: 1}, []byte("x"))
		for _, want := range tt.want {
			if !errors.Is(err, want) {
				t.Errorf("Verify with digest %q: %v, want %v", tt.digest, err, want)
			}
		}
	}
}
