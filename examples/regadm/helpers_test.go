package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// regadm runs the command in-process and returns its exit status, stdout
// and stderr.
func regadm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// image is one pushed test manifest.
type image struct {
	repo   string
	tag    string
	digest digest.Digest
}

// pushed is what newData pushed, in order.
type pushed []image

// find returns the image pushed as repo:tag.
func (p pushed) find(t *testing.T, repo, tg string) image {
	t.Helper()
	for _, im := range p {
		if im.repo == repo && im.tag == tg {
			return im
		}
	}
	t.Fatalf("no image %s:%s pushed", repo, tg)
	return image{}
}

// push describes one image to push: repository, tag ("" for untagged) and
// its age when pushed.
type push struct {
	repo string
	tag  string
	age  time.Duration
}

// newData creates a data folder with the given images pushed, oldest
// first, each through a registry whose clock says it is age ago. The
// registry is closed again.
func newData(t *testing.T, pushes ...push) (string, pushed) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	var out pushed
	now := time.Now()
	if len(pushes) == 0 {
		reg, err := registry.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pushes {
		at := now.Add(-p.age)
		reg, err := registry.Open(dir, registry.WithClock(func() time.Time { return at }))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, image{repo: p.repo, tag: p.tag, digest: pushImage(t, reg, p.repo, p.tag)})
		if err := reg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir, out
}

// pushImage pushes a small image (a config and one random layer) to
// repo, under tg unless it is empty, and returns its digest.
func pushImage(t *testing.T, reg *registry.Registry, repoName, tg string) digest.Digest {
	t.Helper()
	d, err := pushSmallImage(context.Background(), reg, repoName, tg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pushSmallImage is pushImage for callers without a testing.T.
func pushSmallImage(ctx context.Context, reg *registry.Registry, repoName, tg string) (digest.Digest, error) {
	repo, err := reg.Repository(ctx, repoName)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers"}, "nonce": digest.FromBytes(nonce).Encoded()})
	put := func(mediaType string, b []byte) (ocispec.Descriptor, error) {
		d := digest.FromBytes(b)
		if _, err := repo.Blobs().Put(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("put blob: %w", err)
		}
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, nil
	}
	config, err := put(ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return "", err
	}
	layer, err := put(ocispec.MediaTypeImageLayerGzip, nonce)
	if err != nil {
		return "", err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    config,
		Layers:    []ocispec.Descriptor{layer},
	}
	b, _ := json.Marshal(m)
	desc, err := repo.Manifests().Put(ctx, b, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tg})
	if err != nil {
		return "", fmt.Errorf("push %s:%s: %w", repoName, tg, err)
	}
	return desc.Digest, nil
}

// withReg opens dir, runs fn and closes it.
func withReg(t *testing.T, dir string, fn func(reg *registry.Registry)) {
	t.Helper()
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	}()
	fn(reg)
}

// repoOf returns the handle of repository name.
func repoOf(t *testing.T, reg *registry.Registry, name string) *registry.Repository {
	t.Helper()
	repo, err := reg.Repository(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// tags lists the tags of repo in dir (none when it is gone).
func tags(t *testing.T, dir, repoName string) []string {
	t.Helper()
	var out []string
	withReg(t, dir, func(reg *registry.Registry) {
		var err error
		out, err = repoOf(t, reg, repoName).Tags().List(context.Background(), registry.ListOptions{})
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			t.Fatal(err)
		}
	})
	return out
}

// attributes returns the attributes of what r names in dir.
func attributes(t *testing.T, dir string, r ref) tag.Attributes {
	t.Helper()
	var a tag.Attributes
	withReg(t, dir, func(reg *registry.Registry) {
		ctx := context.Background()
		repo := repoOf(t, reg, r.repo)
		var err error
		switch r.kind() {
		case tag.KindManifest:
			var p registry.ManifestProperties
			p, err = repo.Manifests().Properties(ctx, r.digest)
			a = p.Attributes
		case tag.KindTag:
			var p registry.TagProperties
			p, err = repo.Tags().Properties(ctx, r.tag)
			a = p.Attributes
		default:
			var p registry.RepositoryProperties
			p, err = repo.Properties(ctx)
			a = p.Attributes
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	return a
}

// writeFile writes content to a file in a temporary folder and returns its
// path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
