package registry

import (
	"context"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/tag"
)

func boolp(b bool) *bool { return &b }

// TestLocks walks ACR's lock rules through every path that could break them.
func TestLocks(t *testing.T) {
	noWrite := tag.Patch{WriteEnabled: boolp(false)}
	noDelete := tag.Patch{DeleteEnabled: boolp(false)}
	noRead := tag.Patch{ReadEnabled: boolp(false)}
	type fixture struct {
		r    *Registry
		repo *Repository
		img  image
	}
	tests := []struct {
		name   string
		lock   func(t *testing.T, f fixture) error
		op     func(t *testing.T, f fixture) error
		locked bool
	}{
		{"push over write-locked tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return pushImageErr(t, f.repo, "v1") }, true},
		{"push over delete-locked tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noDelete)
				return err
			},
			func(t *testing.T, f fixture) error { return pushImageErr(t, f.repo, "v1") }, false},
		{"untag write-locked tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Tags().Untag(ctx(), "v1") }, true},
		{"untag delete-locked tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noDelete)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Tags().Untag(ctx(), "v1") }, true},
		{"delete manifest with write-locked tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, true},
		{"delete write-locked manifest",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().SetAttributes(ctx(), f.img.desc.Digest, noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, true},
		{"delete delete-locked manifest",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().SetAttributes(ctx(), f.img.desc.Digest, noDelete)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, true},
		{"manifest lock does not lock its tag",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().SetAttributes(ctx(), f.img.desc.Digest, noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return pushImageErr(t, f.repo, "v1") }, false},
		{"tag lock does not lock other tags of the manifest",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite)
				return err
			},
			func(t *testing.T, f fixture) error {
				return f.repo.Tags().Set(ctx(), "v2", f.img.desc.Digest, SetOptions{})
			}, false},
		{"write-locked repository refuses uploads",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noWrite); return err },
			func(t *testing.T, f fixture) error { _, err := f.repo.Blobs().StartUpload(ctx()); return err }, true},
		{"write-locked repository refuses new tags",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noWrite); return err },
			func(t *testing.T, f fixture) error {
				return f.repo.Tags().Set(ctx(), "v2", f.img.desc.Digest, SetOptions{})
			}, true},
		{"write-locked repository refuses manifest delete",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noWrite); return err },
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, true},
		{"write-locked repository refuses its deletion",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noWrite); return err },
			func(t *testing.T, f fixture) error { return f.r.DeleteRepository(ctx(), "app") }, true},
		{"delete-locked repository refuses its deletion",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noDelete); return err },
			func(t *testing.T, f fixture) error { return f.r.DeleteRepository(ctx(), "app") }, true},
		{"delete-locked repository allows manifest delete",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noDelete); return err },
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, false},
		{"repository with a locked tag cannot be deleted",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return f.r.DeleteRepository(ctx(), "app") }, true},
		{"repository with a locked manifest cannot be deleted",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().SetAttributes(ctx(), f.img.desc.Digest, noDelete)
				return err
			},
			func(t *testing.T, f fixture) error { return f.r.DeleteRepository(ctx(), "app") }, true},
		{"read-locked manifest cannot be pulled",
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().SetAttributes(ctx(), f.img.desc.Digest, noRead)
				return err
			},
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Manifests().Get(ctx(), "v1", GetOptions{})
				return err
			}, true},
		{"read-locked repository blocks blob reads",
			func(t *testing.T, f fixture) error { _, err := f.repo.SetAttributes(ctx(), noRead); return err },
			func(t *testing.T, f fixture) error {
				_, err := f.repo.Blobs().Open(ctx(), f.img.layers[0].Digest)
				return err
			}, true},
		{"locked referrer blocks deleting its subject",
			func(t *testing.T, f fixture) error {
				d := pushReferrer(t, f.repo, f.img.desc, "application/vnd.example.sig")
				_, err := f.repo.Manifests().SetAttributes(ctx(), d.Digest, noWrite)
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Manifests().Delete(ctx(), f.img.desc.Digest) }, true},
		{"unlocking lifts the lock",
			func(t *testing.T, f fixture) error {
				if _, err := f.repo.Tags().SetAttributes(ctx(), "v1", noWrite); err != nil {
					return err
				}
				_, err := f.repo.Tags().SetAttributes(ctx(), "v1", tag.Patch{WriteEnabled: boolp(true)})
				return err
			},
			func(t *testing.T, f fixture) error { return f.repo.Tags().Untag(ctx(), "v1") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := NewMemory()
			defer r.Close()
			f := fixture{r: r, repo: repoOf(t, r, "app")}
			f.img = pushImage(t, f.repo, "v1", 1)
			if err := tt.lock(t, f); err != nil {
				t.Fatalf("lock: %v", err)
			}
			before, _ := r.Check(ctx())
			err := tt.op(t, f)
			if tt.locked != (err != nil) || (tt.locked && !errors.Is(err, ErrLocked)) {
				t.Fatalf("op err = %v, want locked=%v", err, tt.locked)
			}
			after, _ := r.Check(ctx())
			if !after.OK() {
				t.Fatalf("inconsistent after op: %v", after.Problems)
			}
			if tt.locked && (before.Manifests != after.Manifests || before.Tags != after.Tags) {
				t.Fatalf("refused op changed content: %+v -> %+v", before, after)
			}
		})
	}
}

func ctx() context.Context { return context.Background() }

// pushImageErr pushes a fresh image under tag and returns the push's error.
func pushImageErr(t *testing.T, repo *Repository, tg string) error {
	img := buildImage(t, repo, 1, nil)
	_, err := repo.Manifests().Put(ctx(), img.bytes, PutOptions{MediaType: ocispec.MediaTypeImageManifest, Tag: tg})
	return err
}
