package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/registry"
)

// upstream is a minimal distribution API server for one image, app:v1,
// whose answers a test may replace with lies.
type upstream struct {
	manifest []byte
	mdesc    ocispec.Descriptor
	blobs    map[digest.Digest][]byte
	layers   []ocispec.Descriptor
	lie      func(w http.ResponseWriter, r *http.Request) bool
}

func newUpstream() *upstream {
	u := &upstream{blobs: map[digest.Digest][]byte{}}
	add := func(mt string, b []byte) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
		u.blobs[d.Digest] = b
		return d
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    add(ocispec.MediaTypeImageConfig, []byte(`{"os":"linux","architecture":"amd64"}`)),
	}
	for i := range 2 {
		m.Layers = append(m.Layers, add(ocispec.MediaTypeImageLayerGzip, []byte(strings.Repeat(strconv.Itoa(i), 4096))))
	}
	u.layers = m.Layers
	u.manifest, _ = json.Marshal(m)
	u.mdesc = ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(u.manifest), Size: int64(len(u.manifest))}
	return u
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		return
	}
	if u.lie != nil && u.lie(w, r) {
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/v2/app/manifests/"):
		ref := strings.TrimPrefix(r.URL.Path, "/v2/app/manifests/")
		if ref != "v1" && ref != u.mdesc.Digest.String() {
			http.NotFound(w, r)
			return
		}
		serve(w, r, u.mdesc.MediaType, u.mdesc.Digest, u.manifest)
	case strings.HasPrefix(r.URL.Path, "/v2/app/blobs/"):
		d := digest.Digest(strings.TrimPrefix(r.URL.Path, "/v2/app/blobs/"))
		b, ok := u.blobs[d]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, "application/octet-stream", d, b)
	default:
		http.NotFound(w, r)
	}
}

func serve(w http.ResponseWriter, r *http.Request, mt string, d digest.Digest, b []byte) {
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

// endless writes until the client goes away.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := []byte(strings.Repeat("x", 32<<10))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestImportHostileSource imports from upstreams that lie: every import
// fails with a typed error, stores no manifest, and every blob stored is
// stored under its true digest.
func TestImportHostileSource(t *testing.T) {
	isManifestGet := func(u *upstream, r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifests/"+u.mdesc.Digest.String())
	}
	isLayer := func(u *upstream, r *http.Request, i int) bool {
		return strings.HasSuffix(r.URL.Path, "/blobs/"+u.layers[i].Digest.String())
	}
	cases := []struct {
		name string
		lie  func(u *upstream) func(w http.ResponseWriter, r *http.Request) bool
		want error
	}{
		{"manifest bytes do not match the digest", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isManifestGet(u, r) {
					return false
				}
				bad := []byte(strings.Replace(string(u.manifest), "amd64", "arm64", 1))
				bad[len(bad)-2] = ' '
				serve(w, r, u.mdesc.MediaType, u.mdesc.Digest, bad)
				return true
			}
		}, registry.ErrDigestMismatch},
		{"manifest longer than its size", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isManifestGet(u, r) {
					return false
				}
				serve(w, r, u.mdesc.MediaType, u.mdesc.Digest, append(append([]byte(nil), u.manifest...), "        "...))
				return true
			}
		}, registry.ErrSizeMismatch},
		{"endless manifest", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isManifestGet(u, r) {
					return false
				}
				w.Header().Set("Content-Type", u.mdesc.MediaType)
				endless(w, r)
				return true
			}
		}, registry.ErrSizeMismatch},
		{"manifest over the size limit", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/manifests/v1") {
					return false
				}
				big := make([]byte, 5<<20)
				w.Header().Set("Content-Type", u.mdesc.MediaType)
				w.Header().Set("Docker-Content-Digest", digest.FromBytes(big).String())
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				if r.Method == http.MethodGet {
					_, _ = w.Write(big)
				}
				return true
			}
		}, registry.ErrTooLarge},
		{"blob bytes do not match the digest", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isLayer(u, r, 1) {
					return false
				}
				serve(w, r, "application/octet-stream", u.layers[1].Digest, []byte(strings.Repeat("z", int(u.layers[1].Size))))
				return true
			}
		}, registry.ErrDigestMismatch},
		{"blob shorter than its size", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isLayer(u, r, 0) {
					return false
				}
				serve(w, r, "application/octet-stream", u.layers[0].Digest, u.blobs[u.layers[0].Digest][:100])
				return true
			}
		}, registry.ErrSizeMismatch},
		{"endless blob", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isLayer(u, r, 1) {
					return false
				}
				endless(w, r)
				return true
			}
		}, registry.ErrSizeMismatch},
		{"redirect loop", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/blobs/") {
					return false
				}
				http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
				return true
			}
		}, registry.ErrSourceFailed},
		{"500 midway", func(u *upstream) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !isLayer(u, r, 1) {
					return false
				}
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			}
		}, registry.ErrSourceFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			u := newUpstream()
			u.lie = tc.lie(u)
			hs := httptest.NewServer(u)
			defer hs.Close()
			src, ref, err := registry.NewRemote(strings.TrimPrefix(hs.URL, "http://")+"/app:v1",
				registry.RemoteOptions{PlainHTTP: true, HTTPClient: &http.Client{}})
			if err != nil {
				t.Fatal(err)
			}
			reg := newMemReg(t)
			_, err = reg.Import(ctx, src, ref, "app", registry.ImportOptions{Concurrency: 1})
			if !errors.Is(err, tc.want) {
				t.Fatalf("import: %v, want %v", err, tc.want)
			}
			if n := manifestCount(t, repoOf(t, reg, "app")); n != 0 {
				t.Fatalf("%d manifests stored", n)
			}
			verifyStored(t, reg)
		})
	}
}

// verifyStored checks every stored blob against its digest.
func verifyStored(t *testing.T, reg *registry.Registry) {
	t.Helper()
	ctx := context.Background()
	err := reg.Blobs().Walk(ctx, func(info blob.Info) error {
		ra, err := reg.Blobs().ReaderAt(ctx, info.Digest)
		if err != nil {
			return err
		}
		defer ra.Close()
		v := info.Digest.Verifier()
		if _, err := io.Copy(v, io.NewSectionReader(ra, 0, ra.Size())); err != nil {
			return err
		}
		if !v.Verified() {
			t.Errorf("blob stored under %s does not hash to it", info.Digest)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
