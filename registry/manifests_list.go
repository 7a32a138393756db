package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/internal/schema"
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

// manifestProperties combines a manifest's record, with its detail loaded,
// and its tags.
func manifestProperties(dgst digest.Digest, r *schema.Manifest, tags []string) ManifestProperties {
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

// Properties returns a manifest's properties by digest.
func (ms *Manifests) Properties(ctx context.Context, dgst digest.Digest) (ManifestProperties, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return ManifestProperties{}, err
	}
	defer ms.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return ManifestProperties{}, err
	}
	var p ManifestProperties
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		rec, ok, err := schema.Manifests.Get(tx, ms.repo.name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, ms.repo.name)
		}
		if err := schema.Details.Load(tx, ms.repo.name, dgst, &rec); err != nil {
			return err
		}
		tags, err := schema.ManifestTags.List(tx, ms.repo.name, dgst)
		p = manifestProperties(dgst, &rec, tags)
		return err
	})
	return p, err
}

// SetAttributes changes a manifest's changeable attributes.
func (ms *Manifests) SetAttributes(ctx context.Context, dgst digest.Digest, patch tag.Patch) (ManifestProperties, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return ManifestProperties{}, err
	}
	defer ms.repo.reg.leave()
	if err := validDigest(dgst); err != nil {
		return ManifestProperties{}, err
	}
	var p ManifestProperties
	name := ms.repo.name
	err := ms.repo.reg.update(ctx, func(t *txn) error {
		rec, ok, err := schema.Manifests.Get(t, name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, name)
		}
		rec.Attributes = patch.Apply(rec.Attributes)
		rec.UpdatedAt = t.now
		if err := schema.Manifests.Put(t, name, dgst, &rec); err != nil {
			return err
		}
		if err := schema.Details.Load(t, name, dgst, &rec); err != nil {
			return err
		}
		tags, err := schema.ManifestTags.List(t, name, dgst)
		p = manifestProperties(dgst, &rec, tags)
		t.emit(Event{Action: ActionAttributes, Repository: name, Digest: dgst})
		return err
	})
	return p, err
}

// List returns the repository's manifests, tagged or not, in digest order,
// with their properties (ACR's list-metadata). Manifests with
// listEnabled=false are left out.
func (ms *Manifests) List(ctx context.Context, opts ListOptions) ([]ManifestProperties, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer ms.repo.reg.leave()
	name := ms.repo.name
	var out []ManifestProperties
	err := ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		out = out[:0]
		type item struct {
			dgst digest.Digest
			rec  schema.Manifest
		}
		var items []item
		err := schema.Manifests.Scan(tx, name, opts.Last, func(dgst digest.Digest, rec *schema.Manifest) bool {
			if !rec.Attributes.ListEnabled {
				return true
			}
			items = append(items, item{dgst: dgst, rec: *rec})
			return opts.N <= 0 || len(items) < opts.N
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := schema.Details.Load(tx, name, it.dgst, &it.rec); err != nil {
				return err
			}
			tags, err := schema.ManifestTags.List(tx, name, it.dgst)
			if err != nil {
				return err
			}
			out = append(out, manifestProperties(it.dgst, &it.rec, tags))
		}
		return nil
	})
	return out, err
}

// Referrers lists the manifests whose subject is dgst, as descriptors for
// the referrers API, optionally only those of one artifactType. The subject
// need not exist.
func (ms *Manifests) Referrers(ctx context.Context, dgst digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer ms.repo.reg.leave()
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
		return schema.Referrers.Scan(tx, ms.repo.name, dgst, func(d *ocispec.Descriptor) bool {
			if artifactType == "" || d.ArtifactType == artifactType {
				out = append(out, *d)
			}
			return true
		})
	})
	return out, err
}
