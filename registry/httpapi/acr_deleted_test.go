package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/tag"
)

// newSoftFixture is an ACR fixture with soft delete on, 7 days.
func newSoftFixture(t testing.TB, opts ...httpapi.Option) *acrFixture {
	t.Helper()
	f := newACRFixture(t, opts...)
	if _, err := f.reg.SetSoftDelete(context.Background(), true, 7); err != nil {
		t.Fatal(err)
	}
	return f
}

// del sends a DELETE that must answer 202, then moves the clock on.
func (f *acrFixture) del(t testing.TB, target string) {
	t.Helper()
	if w := call(t, f.h, "DELETE", target, nil); w.Code != http.StatusAccepted {
		t.Fatalf("DELETE %s = %d %s", target, w.Code, w.Body)
	}
	f.tick()
}

// acrTimeOf renders t as the ACR routes do.
func acrTimeOf(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

const week = 7 * 24 * time.Hour

func TestACRDeletedListings(t *testing.T) {
	f := newSoftFixture(t)
	created := f.clock()
	d1 := f.platformImage(t, "team/app", "v1", "1")
	d2 := f.platformImage(t, "team/app", "v2", "2")
	for _, name := range []string{"old1", "old2", "old3"} {
		f.platformImage(t, name, "v1", name)
	}
	untagAt := f.clock()
	f.del(t, "/acr/v1/team/app/_tags/v2")
	deleteAt := f.clock()
	f.del(t, "/v2/team/app/manifests/"+d1.String())
	var repoAt []time.Time
	for _, name := range []string{"old1", "old2", "old3"} {
		repoAt = append(repoAt, f.clock())
		f.del(t, "/acr/v1/"+name)
	}

	// The deleted catalog: newest first, ACR's fields and expiresAt.
	code, hdr, v := acrCall(t, f.h, "GET", "/acr/v1/_deleted/_catalog", "")
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" || !slices.Equal(keys(v), []string{"repositories"}) {
		t.Fatalf("catalog = %d %v", code, v)
	}
	repos := v["repositories"].([]any)
	if len(repos) != 3 {
		t.Fatalf("repositories = %v", repos)
	}
	r0 := repos[0].(map[string]any)
	if !slices.Equal(keys(r0), []string{"createdAt", "deletedAt", "expiresAt", "repository"}) ||
		r0["repository"] != "old3" || r0["deletedAt"] != acrTimeOf(repoAt[2]) ||
		r0["expiresAt"] != acrTimeOf(repoAt[2].Add(week)) || !acrTimeRE.MatchString(r0["createdAt"].(string)) {
		t.Errorf("newest deleted repository = %v", r0)
	}

	// Tags: the one deleted with its manifest, then the one untagged.
	code, _, v = acrCall(t, f.h, "GET", "/acr/v1/_deleted/team%2Fapp/_tags", "")
	if code != http.StatusOK || !slices.Equal(keys(v), []string{"imageName", "registry", "tags"}) || v["imageName"] != "team/app" {
		t.Fatalf("tags = %d %v", code, v)
	}
	tags := v["tags"].([]any)
	want := []map[string]any{
		{"tag": "v1", "digest": d1.String(), "deletedAt": acrTimeOf(deleteAt), "expiresAt": acrTimeOf(deleteAt.Add(week))},
		{"tag": "v2", "digest": d2.String(), "deletedAt": acrTimeOf(untagAt), "expiresAt": acrTimeOf(untagAt.Add(week))},
	}
	if len(tags) != len(want) {
		t.Fatalf("tags = %v", tags)
	}
	for i, w := range want {
		got := tags[i].(map[string]any)
		if !slices.Equal(keys(got), []string{"deletedAt", "digest", "expiresAt", "tag"}) {
			t.Errorf("tag %d has fields %v", i, keys(got))
		}
		for k, x := range w {
			if got[k] != x {
				t.Errorf("tag %d: %s = %v, want %v", i, k, got[k], x)
			}
		}
	}

	// Manifests: digest, mediaType, size, the tags it carried, times.
	code, _, v = acrCall(t, f.h, "GET", "/acr/v1/_deleted/team/app/_manifests", "")
	ms, _ := v["manifests"].([]any)
	if code != http.StatusOK || len(ms) != 1 {
		t.Fatalf("manifests = %d %v", code, v)
	}
	m := ms[0].(map[string]any)
	if !slices.Equal(keys(m), []string{"artifactType", "createdAt", "deletedAt", "digest", "expiresAt", "mediaType", "size", "tags"}) ||
		m["digest"] != d1.String() || m["mediaType"] != ocispec.MediaTypeImageManifest || m["artifactType"] != ocispec.MediaTypeImageConfig ||
		m["size"] != float64(manifestSize(t, f, "team/app", d1)) || !slices.Equal(m["tags"].([]any), []any{"v1"}) ||
		m["deletedAt"] != acrTimeOf(deleteAt) || m["expiresAt"] != acrTimeOf(deleteAt.Add(week)) ||
		m["createdAt"] != acrTimeOf(created) {
		t.Errorf("manifest = %v", m)
	}

	// Expiry follows the current setting.
	if _, err := f.reg.SetSoftDelete(context.Background(), true, 30); err != nil {
		t.Fatal(err)
	}
	_, _, v = acrCall(t, f.h, "GET", "/acr/v1/_deleted/team/app/_manifests", "")
	if got := v["manifests"].([]any)[0].(map[string]any)["expiresAt"]; got != acrTimeOf(deleteAt.Add(30*24*time.Hour)) {
		t.Errorf("expiresAt after raising the days = %v", got)
	}
}

// manifestSize is the size of a deleted manifest, read from the library.
func manifestSize(t testing.TB, f *acrFixture, name string, d digest.Digest) int64 {
	t.Helper()
	page, _, err := f.repo(t, name).DeletedManifests(context.Background(), registry.DeletedListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page {
		if m.Digest == d {
			return m.Size
		}
	}
	t.Fatalf("%s is not deleted in %s", d, name)
	return 0
}

func TestACRDeletedPaging(t *testing.T) {
	f := newSoftFixture(t)
	f.platformImage(t, "team/app", "keep", "keep") // team/app stays
	var ds []digest.Digest
	for _, s := range []string{"a", "b", "c"} {
		ds = append(ds, f.platformImage(t, "team/app", s, s))
		f.platformImage(t, "gone-"+s, "v1", s)
	}
	for i, s := range []string{"a", "b", "c"} {
		f.del(t, "/acr/v1/team/app/_manifests/"+ds[i].String())
		f.del(t, "/acr/v1/gone-"+s)
	}
	for _, c := range []struct {
		target, field, key string
		want               [][]string
	}{
		{"/acr/v1/_deleted/_catalog?n=2", "repositories", "repository", [][]string{{"gone-c", "gone-b"}, {"gone-a"}}},
		{"/acr/v1/_deleted/_catalog", "repositories", "repository", [][]string{{"gone-c", "gone-b", "gone-a"}}},
		{"/acr/v1/_deleted/team/app/_tags?n=1", "tags", "tag", [][]string{{"c"}, {"b"}, {"a"}}},
		{"/acr/v1/_deleted/team%2Fapp/_tags?n=3", "tags", "tag", [][]string{{"c", "b", "a"}}},
		{"/acr/v1/_deleted/team/app/_manifests?n=2&api-version=2021-07-01", "manifests", "digest", [][]string{{ds[2].String(), ds[1].String()}, {ds[0].String()}}},
		{"/acr/v1/_deleted/gone-a/_manifests", "manifests", "tags", nil},
		{"/acr/v1/_deleted/team/app/_tags?n=0", "tags", "tag", [][]string{nil}},
		{"/acr/v1/_deleted/_catalog?n=0", "repositories", "repository", [][]string{nil}},
		// A repository with nothing deleted, or never created, lists nothing.
		{"/acr/v1/_deleted/never/_tags", "tags", "tag", [][]string{nil}},
	} {
		t.Run(c.target, func(t *testing.T) {
			if c.want == nil {
				code, _, v := acrCall(t, f.h, "GET", c.target, "")
				if ms, _ := v["manifests"].([]any); code != http.StatusOK || len(ms) != 1 {
					t.Errorf("= %d %v", code, v)
				}
				return
			}
			got := listNames(t, f.h, c.target, c.field, c.key)
			if len(got) != len(c.want) {
				t.Fatalf("pages = %v, want %v", got, c.want)
			}
			for i := range got {
				if !slices.Equal(got[i], c.want[i]) {
					t.Errorf("page %d = %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
	// The Link keeps the path (name slashes plain) and n; last is the cursor.
	_, hdr, _ := acrCall(t, f.h, "GET", "/acr/v1/_deleted/team%2Fapp/_tags?n=1", "")
	if link := hdr.Get("Link"); !strings.HasPrefix(link, "</acr/v1/_deleted/team/app/_tags?last=") || !strings.HasSuffix(link, `&n=1>; rel="next"`) {
		t.Errorf("Link = %q", link)
	}
	// HEAD answers the headers only.
	if w := call(t, f.h, "HEAD", "/acr/v1/_deleted/_catalog", nil); w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD = %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestACRDeletedErrors(t *testing.T) {
	f := newSoftFixture(t)
	d := f.platformImage(t, "team/app", "v1", "1")
	for _, c := range []struct {
		method, target string
		status         int
		code, allow    string
	}{
		{"GET", "/acr/v1/_deleted/_catalog?last=nonsense", http.StatusBadRequest, httpapi.CodeUnsupported, ""},
		{"GET", "/acr/v1/_deleted/team/app/_tags?last=v1%402024", http.StatusBadRequest, httpapi.CodeUnsupported, ""},
		{"GET", "/acr/v1/_deleted/team/app/_manifests?n=x", http.StatusBadRequest, httpapi.CodeUnsupported, ""},
		{"GET", "/acr/v1/_deleted/Team/_tags", http.StatusBadRequest, httpapi.CodeNameInvalid, ""},
		{"POST", "/acr/v1/_deleted/_catalog", http.StatusMethodNotAllowed, httpapi.CodeUnsupported, "GET, HEAD"},
		{"DELETE", "/acr/v1/_deleted/team/app/_tags", http.StatusMethodNotAllowed, httpapi.CodeUnsupported, "GET, HEAD"},
		{"POST", "/acr/v1/_deleted/team/app/_manifests", http.StatusMethodNotAllowed, httpapi.CodeUnsupported, "GET, HEAD"},
		{"GET", "/acr/v1/_deleted/team/app/_manifests/" + d.String(), http.StatusMethodNotAllowed, httpapi.CodeUnsupported, "POST"},
	} {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			code, hdr, v := acrCall(t, f.h, c.method, c.target, "")
			checkACRError(t, code, hdr, v, c.status, c.code)
			if got := hdr.Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
	for _, p := range []string{"/acr/v1/_deleted", "/acr/v1/_deleted/", "/acr/v1/_deleted/team/app", "/acr/v1/_deleted/team/app/_tags/v1", "/acr/v1/_deleted/_manifests"} {
		if w := call(t, f.h, "GET", p, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
}

// restoreCase is one restore: setup prepares the registry and returns the
// request's path after /acr/v1/_deleted/ and its body.
type restoreCase struct {
	name   string
	setup  func(t *testing.T, f *acrFixture) (target, body string)
	status int
	code   string   // for refusals
	names  []string // digests or tags the refusal's message names
	check  func(t *testing.T, f *acrFixture, v map[string]any)
}

// indexOf stores an index of children in name, tagged tagName.
func indexOf(t testing.TB, f *acrFixture, name, tagName string, children ...digest.Digest) digest.Digest {
	t.Helper()
	var descs []ocispec.Descriptor
	for _, c := range children {
		descs = append(descs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: c, Size: sizeOf(t, f, name, c)})
	}
	b, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs})
	if _, err := f.repo(t, name).Manifests().Put(context.Background(), b, registry.PutOptions{MediaType: ocispec.MediaTypeImageIndex, Tag: tagName}); err != nil {
		t.Fatal(err)
	}
	f.tick()
	return digest.FromBytes(b)
}

// referrerOf stores a referrer of subject in name.
func referrerOf(t testing.TB, f *acrFixture, name string, subject digest.Digest) digest.Digest {
	t.Helper()
	sub := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: subject, Size: sizeOf(t, f, name, subject)}
	b := imageManifest(f.blob(t, name, "application/vnd.test.config", []byte("{}")),
		f.blob(t, name, ocispec.MediaTypeImageLayer, []byte("signature")), &sub, "application/vnd.test.sig")
	f.manifest(t, name, "", b)
	f.tick()
	return digest.FromBytes(b)
}

// liveTag reports the digest tagName points at in name ("" when none).
func liveTag(t testing.TB, f *acrFixture, name, tagName string) digest.Digest {
	t.Helper()
	p, err := f.repo(t, name).Tags().Properties(context.Background(), tagName)
	if err != nil {
		return ""
	}
	return p.Digest
}

func TestACRRestore(t *testing.T) {
	var d1, d3, child, subject digest.Digest
	// deleted1 pushes team/app:v1 (d1) and v1b on it, and deletes d1;
	// team/app:keep stays, and so does the repository.
	deleted1 := func(t *testing.T, f *acrFixture) {
		f.platformImage(t, "team/app", "keep", "keep")
		d1 = f.platformImage(t, "team/app", "v1", "1")
		if err := f.repo(t, "team/app").Tags().Set(context.Background(), "v1b", d1, registry.SetOptions{}); err != nil {
			t.Fatal(err)
		}
		f.del(t, "/v2/team/app/manifests/"+d1.String())
	}
	// retagged is deleted1 and then v1 pushed again on d3.
	retagged := func(t *testing.T, f *acrFixture) {
		deleted1(t, f)
		d3 = f.platformImage(t, "team/app", "v1", "3")
	}
	cases := []restoreCase{
		{name: "manifest with its tags", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team/app/_manifests/" + d1.String(), ""
		}, status: http.StatusOK, check: func(t *testing.T, f *acrFixture, v map[string]any) {
			if !slices.Equal(keys(v), []string{"deletedManifests", "digest", "imageName", "manifestRestored", "overwrittenTags", "registry", "repositoryRestored", "tags"}) {
				t.Errorf("fields = %v", keys(v))
			}
			if v["digest"] != d1.String() || v["manifestRestored"] != true || v["repositoryRestored"] != false || v["imageName"] != "team/app" ||
				!slices.Equal(v["tags"].([]any), []any{"v1", "v1b"}) || len(v["overwrittenTags"].([]any)) != 0 || len(v["deletedManifests"].([]any)) != 0 {
				t.Errorf("restored = %v", v)
			}
			if w := call(t, f.h, "GET", "/v2/team/app/manifests/v1b", nil); w.Code != http.StatusOK || digest.FromBytes(w.Body.Bytes()) != d1 {
				t.Errorf("pull after restore = %d", w.Code)
			}
		}},
		{name: "one tag, named in the body, with %2F", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team%2Fapp/_manifests/" + d1.String() + "?force=false", `{"tag":"v1b"}`
		}, status: http.StatusOK, check: func(t *testing.T, f *acrFixture, v map[string]any) {
			if !slices.Equal(v["tags"].([]any), []any{"v1b"}) || liveTag(t, f, "team/app", "v1") != "" || liveTag(t, f, "team/app", "v1b") != d1 {
				t.Errorf("restored = %v", v)
			}
		}},
		{name: "a deleted repository comes back", setup: func(t *testing.T, f *acrFixture) (string, string) {
			d1 = f.platformImage(t, "old", "v1", "o")
			f.del(t, "/acr/v1/old")
			return "old/_manifests/" + d1.String(), "  "
		}, status: http.StatusOK, check: func(t *testing.T, f *acrFixture, v map[string]any) {
			if v["repositoryRestored"] != true || liveTag(t, f, "old", "v1") != d1 {
				t.Errorf("restored = %v", v)
			}
			if _, _, c := acrCall(t, f.h, "GET", "/acr/v1/_deleted/_catalog", ""); len(c["repositories"].([]any)) != 0 {
				t.Errorf("deleted catalog after restore = %v", c)
			}
		}},
		{name: "a live manifest", setup: func(t *testing.T, f *acrFixture) (string, string) {
			d1 = f.platformImage(t, "team/app", "v1", "1")
			return "team/app/_manifests/" + d1.String(), ""
		}, status: http.StatusNotFound, code: httpapi.CodeManifestUnknown},
		{name: "never pushed", setup: func(t *testing.T, f *acrFixture) (string, string) {
			return "team/app/_manifests/" + digest.FromString("nothing").String(), ""
		}, status: http.StatusNotFound, code: httpapi.CodeManifestUnknown},
		{name: "a tag now elsewhere", setup: func(t *testing.T, f *acrFixture) (string, string) {
			retagged(t, f)
			return "team/app/_manifests/" + d1.String(), ""
		}, status: http.StatusConflict, code: httpapi.CodeUnsupported, names: []string{"v1", "force"}},
		{name: "a tag now elsewhere, force=false", setup: func(t *testing.T, f *acrFixture) (string, string) {
			retagged(t, f)
			return "team/app/_manifests/" + d1.String() + "?force=false", `{"tag":"v1"}`
		}, status: http.StatusConflict, code: httpapi.CodeUnsupported},
		{name: "force overwrites and soft-deletes what it leaves untagged", setup: func(t *testing.T, f *acrFixture) (string, string) {
			retagged(t, f)
			return "team/app/_manifests/" + d1.String() + "?force=true", ""
		}, status: http.StatusOK, check: func(t *testing.T, f *acrFixture, v map[string]any) {
			ow := v["overwrittenTags"].([]any)
			if len(ow) != 1 || ow[0].(map[string]any)["tag"] != "v1" || ow[0].(map[string]any)["digest"] != d3.String() ||
				!slices.Equal(v["deletedManifests"].([]any), []any{d3.String()}) || liveTag(t, f, "team/app", "v1") != d1 {
				t.Errorf("restored = %v", v)
			}
			names := flat(listNames(t, f.h, "/acr/v1/_deleted/team/app/_manifests", "manifests", "digest"))
			if !slices.Equal(names, []string{d3.String()}) {
				t.Errorf("deleted manifests after force = %v", names)
			}
		}},
		{name: "force onto a locked tag", setup: func(t *testing.T, f *acrFixture) (string, string) {
			retagged(t, f)
			if _, err := f.repo(t, "team/app").Tags().SetAttributes(context.Background(), "v1", tag.Patch{WriteEnabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			return "team/app/_manifests/" + d1.String() + "?force=true", ""
		}, status: http.StatusMethodNotAllowed, code: httpapi.CodeDisallowed},
		{name: "a write-locked repository", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			if _, err := f.repo(t, "team/app").SetAttributes(context.Background(), tag.Patch{WriteEnabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			return "team/app/_manifests/" + d1.String(), ""
		}, status: http.StatusMethodNotAllowed, code: httpapi.CodeDisallowed},
		{name: "an index whose child is deleted", setup: func(t *testing.T, f *acrFixture) (string, string) {
			child = f.platformImage(t, "team/app", "", "child")
			idx := indexOf(t, f, "team/app", "multi", child)
			f.del(t, "/v2/team/app/manifests/"+idx.String())
			f.del(t, "/v2/team/app/manifests/"+child.String())
			return "team/app/_manifests/" + idx.String(), ""
		}, status: http.StatusConflict, code: httpapi.CodeManifestUnknown, names: []string{"<child>"}},
		{name: "a referrer whose subject is deleted", setup: func(t *testing.T, f *acrFixture) (string, string) {
			subject = f.platformImage(t, "team/app", "v1", "s")
			ref := referrerOf(t, f, "team/app", subject)
			f.del(t, "/v2/team/app/manifests/"+subject.String())
			return "team/app/_manifests/" + ref.String(), ""
		}, status: http.StatusConflict, code: httpapi.CodeManifestUnknown, names: []string{"<subject>"}},
		{name: "bad force", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team/app/_manifests/" + d1.String() + "?force=maybe", ""
		}, status: http.StatusBadRequest, code: httpapi.CodeUnsupported},
		{name: "body not an object", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team/app/_manifests/" + d1.String(), `["v1"]`
		}, status: http.StatusBadRequest, code: httpapi.CodeUnsupported},
		{name: "body with trailing data", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team/app/_manifests/" + d1.String(), `{"tag":"v1"} {}`
		}, status: http.StatusBadRequest, code: httpapi.CodeUnsupported},
		{name: "bad tag", setup: func(t *testing.T, f *acrFixture) (string, string) {
			deleted1(t, f)
			return "team/app/_manifests/" + d1.String(), `{"tag":"-v1"}`
		}, status: http.StatusBadRequest, code: httpapi.CodeTagInvalid},
		{name: "bad digest", setup: func(t *testing.T, f *acrFixture) (string, string) {
			return "team/app/_manifests/sha256:zz", ""
		}, status: http.StatusBadRequest, code: httpapi.CodeDigestInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSoftFixture(t)
			target, body := c.setup(t, f)
			code, hdr, v := acrCall(t, f.h, "POST", "/acr/v1/_deleted/"+target, body)
			if c.status != http.StatusOK {
				checkACRError(t, code, hdr, v, c.status, c.code)
				msg, _ := v["errors"].([]any)[0].(map[string]any)["message"].(string)
				for _, n := range c.names {
					n = strings.NewReplacer("<child>", child.String(), "<subject>", subject.String()).Replace(n)
					if !strings.Contains(msg, n) {
						t.Errorf("message %q does not name %s", msg, n)
					}
				}
				return
			}
			if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("restore = %d %v", code, v)
			}
			c.check(t, f, v)
		})
	}
}

// TestACRRestoreOrder: a referrer restores once its subject has.
func TestACRRestoreOrder(t *testing.T) {
	f := newSoftFixture(t)
	subject := f.platformImage(t, "team/app", "v1", "s")
	ref := referrerOf(t, f, "team/app", subject)
	f.del(t, "/v2/team/app/manifests/"+subject.String())
	for _, c := range []struct {
		d    digest.Digest
		want int
	}{{ref, http.StatusConflict}, {subject, http.StatusOK}, {ref, http.StatusOK}} {
		if code, _, v := acrCall(t, f.h, "POST", "/acr/v1/_deleted/team/app/_manifests/"+c.d.String(), ""); code != c.want {
			t.Fatalf("restore %s = %d %v, want %d", c.d, code, v, c.want)
		}
	}
	w := call(t, f.h, "GET", "/v2/team/app/referrers/"+subject.String(), nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), ref.String()) {
		t.Errorf("referrers after restore = %d %s", w.Code, w.Body)
	}
}
