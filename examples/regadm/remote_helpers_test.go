package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/tag"
)

// remoteNow is the time remote tests evaluate at; fixtures are pushed
// before it by a registry clock.
var remoteNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fixture is a registry filled by fill, with a settable clock.
type fixture struct {
	reg *registry.Registry
	at  time.Time
	// digests names what fill pushed: "app:v1", "app@untagged", ...
	digests map[string]digest.Digest
}

// newFixture returns an in-memory registry filled with the same content
// (same digests, same times) every time.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{digests: map[string]digest.Digest{}}
	reg, err := registry.NewMemory(registry.WithClock(func() time.Time { return f.at }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	f.reg = reg
	f.fill(t)
	f.at = remoteNow
	return f
}

// fill pushes, oldest first: repositories with tags old and new, untagged
// manifests, a locked tag, indexes with children (one whose tag goes, one
// kept), signed images (a referrer on a subject that goes, one on a
// subject that stays), and a repository no filter below touches.
func (f *fixture) fill(t *testing.T) {
	t.Helper()
	img := func(age time.Duration, repo, tg, seed string) digest.Digest {
		f.at = remoteNow.Add(-age)
		d := pushSeeded(t, f.reg, repo, tg, seed)
		key := repo + ":" + tg
		if tg == "" {
			key = repo + "@" + seed
		}
		f.digests[key] = d
		return d
	}
	img(50*day, "app", "", "untagged-old")
	img(45*day, "app", "v0", "v0")
	img(40*day, "app", "v1", "v1")
	img(35*day, "app", "v2", "v2")
	c1 := img(60*day, "app", "", "child-1")
	c2 := img(60*day, "app", "", "child-2")
	f.at = remoteNow.Add(-38 * day)
	f.digests["app:multi"] = pushIndex(t, f.reg, "app", "multi", c1, c2)
	k1 := img(60*day, "app", "", "kchild-1")
	k2 := img(60*day, "app", "", "kchild-2")
	f.at = remoteNow.Add(-2 * day)
	f.digests["app:keepidx"] = pushIndex(t, f.reg, "app", "keepidx", k1, k2)
	signed := img(33*day, "app", "signed", "signed")
	f.at = remoteNow.Add(-33 * day)
	f.digests["app@sig-signed"] = pushReferrer(t, f.reg, "app", signed, "sig-signed")
	v3 := img(1*day, "app", "v3", "v3")
	f.at = remoteNow.Add(-1 * day)
	if err := repoOf(t, f.reg, "app").Tags().Set(context.Background(), "latest", v3, registry.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	f.digests["app@sig-v3"] = pushReferrer(t, f.reg, "app", v3, "sig-v3")
	img(3*day, "app", "", "untagged-new")

	img(40*day, "other/svc", "old", "svc-old")
	img(20*day, "other/svc", "mid", "svc-mid")
	img(2*day, "other/svc", "new", "svc-new")
	img(31*day, "other/svc", "", "svc-untagged")
	img(40*day, "keep-me", "v1", "keep-v1")
	img(40*day, "keep-me", "", "keep-untagged")

	// v0 is locked (ACR's lock: writeEnabled=false), and so is one
	// untagged manifest.
	f.at = remoteNow.Add(-44 * day)
	no := false
	if _, err := repoOf(t, f.reg, "app").Tags().SetAttributes(context.Background(), "v0", tag.Patch{WriteEnabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := repoOf(t, f.reg, "other/svc").Manifests().SetAttributes(context.Background(), f.digests["other/svc@svc-untagged"], tag.Patch{WriteEnabled: &no}); err != nil {
		t.Fatal(err)
	}
}

// putBlob stores b in repo and returns its descriptor.
func putBlob(t testing.TB, repo *registry.Repository, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	if _, err := repo.Blobs().Put(context.Background(), d, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// putManifest pushes v as mediaType under tg ("" untagged).
func putManifest(t testing.TB, repo *registry.Repository, mediaType, tg string, v any) digest.Digest {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := repo.Manifests().Put(context.Background(), b, registry.PutOptions{MediaType: mediaType, Tag: tg})
	if err != nil {
		t.Fatalf("push %s:%s: %v", repo.Name(), tg, err)
	}
	return desc.Digest
}

// pushSeeded pushes an image whose content depends on seed only.
func pushSeeded(t testing.TB, reg *registry.Registry, repoName, tg, seed string) digest.Digest {
	t.Helper()
	repo, err := reg.Repository(context.Background(), repoName)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers"}, "seed": seed})
	return putManifest(t, repo, ocispec.MediaTypeImageManifest, tg, ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    putBlob(t, repo, ocispec.MediaTypeImageConfig, cfg),
		Layers:    []ocispec.Descriptor{putBlob(t, repo, ocispec.MediaTypeImageLayer, []byte("layer "+seed))},
	})
}

// pushIndex pushes an index of children under tg.
func pushIndex(t *testing.T, reg *registry.Registry, repoName, tg string, children ...digest.Digest) digest.Digest {
	t.Helper()
	repo := repoOf(t, reg, repoName)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for i, c := range children {
		p, err := repo.Manifests().Properties(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageManifest, Digest: c, Size: p.Size,
			Platform: &ocispec.Platform{OS: "linux", Architecture: "arch" + strconv.Itoa(i)},
		})
	}
	return putManifest(t, repo, ocispec.MediaTypeImageIndex, tg, idx)
}

// pushReferrer pushes an untagged signature of subject.
func pushReferrer(t *testing.T, reg *registry.Registry, repoName string, subject digest.Digest, seed string) digest.Digest {
	t.Helper()
	p, err := repoOf(t, reg, repoName).Manifests().Properties(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	return pushReferrerTo(t, reg, repoName, subject, p.Size, seed)
}

// pushReferrerTo pushes an untagged signature of subject, which repoName
// need not hold.
func pushReferrerTo(t *testing.T, reg *registry.Registry, repoName string, subject digest.Digest, size int64, seed string) digest.Digest {
	t.Helper()
	repo := repoOf(t, reg, repoName)
	return putManifest(t, repo, ocispec.MediaTypeImageManifest, "", ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.example.signature",
		Config:       putBlob(t, repo, ocispec.MediaTypeEmptyJSON, []byte("{}")),
		Layers:       []ocispec.Descriptor{putBlob(t, repo, "application/vnd.example.sig", []byte("sig "+seed))},
		Subject:      &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: subject, Size: size},
	})
}

// serve serves reg over HTTP for the test's duration.
func serve(t *testing.T, reg *registry.Registry, opts ...httpapi.Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(reg, opts...))
	t.Cleanup(srv.Close)
	return srv
}

// regadmRemote runs regadm with the test clock, a plain HTTP client (no
// retries) and no Docker config, and returns status, stdout and stderr.
func regadmRemote(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, now: func() time.Time { return remoteNow }, client: &http.Client{}, dockerConfigSet: true}
	code := runEnv(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// item names a decision for comparisons.
func item(repo string, d policy.Decision) string {
	if d.Kind == policy.KindTag {
		return fmt.Sprintf("%s tag %s -> %s", repo, d.Tag, d.Digest)
	}
	return fmt.Sprintf("%s manifest %s", repo, d.Digest)
}

// itemsOf lists what a result deleted and skipped, sorted.
func itemsOf(items []registry.PurgeItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, item(it.Repository, it.Decision))
	}
	slices.Sort(out)
	return out
}

// decisionsOf lists every decision of a result's plans with its verdict
// and reason, sorted (plans list what stays in snapshot order, which
// differs between a data folder and the API).
func decisionsOf(res *registry.PurgeResult) []string {
	var out []string
	for _, p := range res.Plans {
		for _, d := range p.Decisions {
			out = append(out, fmt.Sprintf("%s delete=%t stage=%d unlock=%t %s", item(p.Repository, d), d.Delete, d.Stage, d.Unlock, d.Reason))
		}
	}
	slices.Sort(out)
	return out
}

// contents lists every tag and manifest of reg, sorted.
func contents(t *testing.T, reg *registry.Registry) []string {
	t.Helper()
	ctx := context.Background()
	repos, err := reg.Repositories(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range repos {
		s, err := reg.Snapshot(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range s.Tags {
			out = append(out, fmt.Sprintf("%s:%s@%s %s", name, tg.Name, tg.Digest, fmtAttributes(tg.Attributes)))
		}
		for _, m := range s.Manifests {
			out = append(out, fmt.Sprintf("%s@%s %s", name, m.Digest, fmtAttributes(m.Attributes)))
		}
	}
	slices.Sort(out)
	return out
}
