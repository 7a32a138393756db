package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// ManifestProperties describe a stored manifest as ACR's list-metadata
// shows it.
type ManifestProperties struct {
	// Digest names the manifest.
	Digest digest.Digest
	// Size is the manifest's length in bytes.
	Size int64
	// MediaType is the manifest's media type.
	MediaType string
	// ArtifactType is the artifact type (for images: the config media type).
	ArtifactType string
	// ConfigMediaType is the config's media type, for image manifests.
	ConfigMediaType string
	// Subject is the manifest this one refers to, if it is a referrer.
	Subject digest.Digest
	// Platform is the os and architecture of an image, read from its config.
	Platform *ocispec.Platform
	// References lists the children of an index with their platforms.
	References []ChildReference
	// Tags are the tags pointing to the manifest, in lexical order.
	Tags []string
	// Annotations are the manifest's annotations.
	Annotations map[string]string
	// CreatedAt is when the manifest was first pushed.
	CreatedAt time.Time
	// UpdatedAt is when it or its attributes last changed.
	UpdatedAt time.Time
	// UntaggedSince is when its last tag left; zero while tagged.
	UntaggedSince time.Time
	// Attributes are the manifest's changeable attributes.
	Attributes tag.Attributes
}

// ChildReference is one child of an index.
type ChildReference struct {
	// Digest names the child manifest.
	Digest digest.Digest
	// Platform is the platform the index declares for it.
	Platform *ocispec.Platform
}

// ListOptions page through a listing: entries after Last, at most N (N <= 0:
// all).
type ListOptions struct {
	// Last is the name or digest the previous page ended with.
	Last string
	// N caps the page size.
	N int
}

func (r *manifestRecord) properties(dgst digest.Digest, tags []string) ManifestProperties {
	p := ManifestProperties{
		Digest: dgst, Size: r.Size, MediaType: r.MediaType, ArtifactType: r.ArtifactType,
		ConfigMediaType: r.ConfigMediaType, Subject: r.Subject,
		Tags: tags, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		UntaggedSince: r.UntaggedSince, Attributes: r.Attributes,
	}
	if det := r.Detail; det != nil {
		p.Platform, p.Annotations = det.Platform, det.Annotations
		for _, c := range det.Refs {
			p.References = append(p.References, ChildReference(c))
		}
	}
	return p
}

// manifestTags lists the tags of dgst in lexical order.
func manifestTags(tx meta.Tx, repo string, dgst digest.Digest) ([]string, error) {
	var tags []string
	err := tx.Scan(meta.Prefix(prefix(tDigestTags, repo, dgst.String())), func(k, _ []byte) bool {
		tags = append(tags, lastPart(k))
		return true
	})
	return tags, err
}

// Properties returns a manifest's properties by digest.
func (ms *Manifests) Properties(ctx context.Context, dgst digest.Digest) (ManifestProperties, error) {
	if err := validDigest(dgst); err != nil {
		return ManifestProperties{}, err
	}
	var p ManifestProperties
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		var rec manifestRecord
		ok, err := getRec(tx, key(tManifest, ms.repo.name, dgst.String()), &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, ms.repo.name)
		}
		if err := loadDetail(tx, ms.repo.name, dgst, &rec); err != nil {
			return err
		}
		tags, err := manifestTags(tx, ms.repo.name, dgst)
		p = rec.properties(dgst, tags)
		return err
	})
	return p, err
}

// SetAttributes changes a manifest's changeable attributes.
func (ms *Manifests) SetAttributes(ctx context.Context, dgst digest.Digest, patch tag.Patch) (ManifestProperties, error) {
	if err := validDigest(dgst); err != nil {
		return ManifestProperties{}, err
	}
	var p ManifestProperties
	name := ms.repo.name
	err := ms.repo.reg.update(ctx, func(t *txn) error {
		var rec manifestRecord
		mk := key(tManifest, name, dgst.String())
		ok, err := getRec(t, mk, &rec)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, name)
		}
		rec.Attributes = patch.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		if err := putRec(t, mk, &rec); err != nil {
			return err
		}
		if err := loadDetail(t, name, dgst, &rec); err != nil {
			return err
		}
		tags, err := manifestTags(t, name, dgst)
		p = rec.properties(dgst, tags)
		t.emit(Event{Action: ActionAttributes, Repository: name, Digest: dgst})
		return err
	})
	return p, err
}

// List returns the repository's manifests, tagged or not, in digest order,
// with their properties (ACR's list-metadata). Manifests with
// listEnabled=false are left out.
func (ms *Manifests) List(ctx context.Context, opts ListOptions) ([]ManifestProperties, error) {
	name := ms.repo.name
	var out []ManifestProperties
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		out = out[:0]
		start := prefix(tManifest, name)
		if opts.Last != "" {
			start = append(key(tManifest, name, opts.Last), 0)
		}
		type item struct {
			dgst digest.Digest
			rec  manifestRecord
		}
		var items []item
		var derr error
		err := tx.Scan(meta.Range{Start: start, End: meta.PrefixEnd(prefix(tManifest, name))}, func(k, v []byte) bool {
			var it item
			if derr = decodeRec(k, v, &it.rec); derr != nil {
				return false
			}
			if !it.rec.Attributes.ListEnabled {
				return true
			}
			it.dgst = digest.Digest(lastPart(k))
			items = append(items, it)
			return opts.N <= 0 || len(items) < opts.N
		})
		if err = firstErr(derr, err); err != nil {
			return err
		}
		for _, it := range items {
			if err := loadDetail(tx, name, it.dgst, &it.rec); err != nil {
				return err
			}
			tags, err := manifestTags(tx, name, it.dgst)
			if err != nil {
				return err
			}
			out = append(out, it.rec.properties(it.dgst, tags))
		}
		return nil
	})
	return out, err
}

// Referrers lists the manifests whose subject is dgst, as descriptors for
// the referrers API, optionally only those of one artifactType. The subject
// need not exist.
func (ms *Manifests) Referrers(ctx context.Context, dgst digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := validDigest(dgst); err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		out = out[:0]
		repo, err := loadRepo(tx, ms.repo.name)
		if err != nil {
			return err
		}
		if err := tag.CheckRead(repo.item()); err != nil {
			return err
		}
		var derr error
		err = tx.Scan(meta.Prefix(prefix(tReferrer, ms.repo.name, dgst.String())), func(k, v []byte) bool {
			var d ocispec.Descriptor
			if derr = json.Unmarshal(v, &d); derr != nil {
				derr = decodeRec(k, v, &d)
				return false
			}
			if artifactType == "" || d.ArtifactType == artifactType {
				out = append(out, d)
			}
			return true
		})
		return firstErr(derr, err)
	})
	return out, err
}
