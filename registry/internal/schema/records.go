package schema

import (
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/tag"
)

// Repo is a repository's record (table r), binary.
type Repo struct {
	// CreatedAt is when the repository was created.
	CreatedAt time.Time
	// UpdatedAt is when content or attributes last changed.
	UpdatedAt time.Time
	// Attributes are the repository's changeable attributes.
	Attributes tag.Attributes
	// ManifestCount counts the repository's manifests.
	ManifestCount int
	// TagCount counts the repository's tags.
	TagCount int
}

func (r *Repo) marshal(e *encoder) {
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
	e.int(r.ManifestCount)
	e.int(r.TagCount)
}

func (r *Repo) unmarshal(d *decoder) {
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
	r.ManifestCount, r.TagCount = d.int(), d.int()
}

// Tag is a tag's record (table t), binary.
type Tag struct {
	// Digest is the manifest the tag points to.
	Digest digest.Digest
	// CreatedAt is when the tag was first set.
	CreatedAt time.Time
	// UpdatedAt is when it last moved or changed attributes.
	UpdatedAt time.Time
	// Attributes are the tag's changeable attributes.
	Attributes tag.Attributes
}

func (r *Tag) marshal(e *encoder) {
	e.str(r.Digest.String())
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
}

func (r *Tag) unmarshal(d *decoder) {
	r.Digest = digest.Digest(d.str())
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
}

// Manifest is the hot part of a manifest's record (table m), binary: what
// pulls, tag moves and listings need. Its Detail is stored apart (table x)
// and loaded only where needed.
type Manifest struct {
	// MediaType is the manifest's media type.
	MediaType string
	// Size is the manifest's length in bytes.
	Size int64
	// ArtifactType is the manifest's artifact type.
	ArtifactType string
	// ConfigMediaType is the config's media type, for image manifests.
	ConfigMediaType string
	// Subject is the manifest this one refers to, if any.
	Subject digest.Digest
	// CreatedAt is when the manifest was pushed.
	CreatedAt time.Time
	// UpdatedAt is when it or its attributes last changed.
	UpdatedAt time.Time
	// Attributes are the manifest's changeable attributes.
	Attributes tag.Attributes
	// Tags counts the tags pointing here.
	Tags int
	// UntaggedSince is when the last tag left (or the push, for a manifest
	// pushed by digest); zero while tagged.
	UntaggedSince time.Time
	// Detail is the cold part; nil until Details.Load. It is not part of
	// this record's encoding.
	Detail *Detail
}

func (r *Manifest) marshal(e *encoder) {
	e.str(r.MediaType)
	e.varint(r.Size)
	e.str(r.ArtifactType)
	e.str(r.ConfigMediaType)
	e.str(r.Subject.String())
	e.time(r.CreatedAt)
	e.time(r.UpdatedAt)
	e.attrs(r.Attributes)
	e.int(r.Tags)
	e.time(r.UntaggedSince)
}

func (r *Manifest) unmarshal(d *decoder) {
	r.MediaType, r.Size = d.str(), d.varint()
	r.ArtifactType, r.ConfigMediaType = d.str(), d.str()
	r.Subject = digest.Digest(d.str())
	r.CreatedAt, r.UpdatedAt, r.Attributes = d.time(), d.time(), d.attrs()
	r.Tags, r.UntaggedSince = d.int(), d.time()
}

// Descriptor describes the manifest dgst; annotations are included when the
// detail is loaded.
func (r *Manifest) Descriptor(dgst digest.Digest) ocispec.Descriptor {
	d := ocispec.Descriptor{
		MediaType:    r.MediaType,
		Digest:       dgst,
		Size:         r.Size,
		ArtifactType: r.ArtifactType,
	}
	if r.Detail != nil {
		d.Annotations = r.Detail.Annotations
	}
	return d
}

// Detail is the cold part of a manifest's record (table x), JSON.
type Detail struct {
	// Platform is the os and architecture read from an image's config.
	Platform *ocispec.Platform `json:"p,omitempty"`
	// Annotations are the manifest's annotations.
	Annotations map[string]string `json:"an,omitempty"`
	// Blobs are the distinct blobs (config, layers) the manifest references;
	// each holds one reference count in the link and blob records.
	Blobs []digest.Digest `json:"b,omitempty"`
	// Children are the distinct manifests an index references.
	Children []digest.Digest `json:"ch,omitempty"`
	// Refs are the child manifests of an index with their platforms, for
	// list-metadata.
	Refs []ChildRef `json:"r,omitempty"`
}

// ChildRef is one child of an index, as list-metadata shows it.
type ChildRef struct {
	// Digest names the child manifest.
	Digest digest.Digest `json:"d"`
	// Platform is the platform the index declares for it.
	Platform *ocispec.Platform `json:"p,omitempty"`
}

// Link is a blob link's record (table l), binary: the repository may read
// the blob.
type Link struct {
	// CreatedAt is when the blob was linked.
	CreatedAt time.Time
	// Refs counts manifests of this repository that reference the blob.
	Refs int
}

func (r *Link) marshal(e *encoder) { e.time(r.CreatedAt); e.int(r.Refs) }

func (r *Link) unmarshal(d *decoder) { r.CreatedAt, r.Refs = d.time(), d.int() }

// Blob is a blob's registry-wide record (table g), binary.
type Blob struct {
	// Refs counts manifest references across all repositories.
	Refs int
	// ReviewAfter is the earliest time collection may remove the blob when
	// Refs is zero: the end of its grace period.
	ReviewAfter time.Time
	// Deleting is set by the collector between its two transactions, while
	// it removes the bytes from storage.
	Deleting bool
}

func (r *Blob) marshal(e *encoder) {
	e.int(r.Refs)
	e.time(r.ReviewAfter)
	e.bool(r.Deleting)
}

func (r *Blob) unmarshal(d *decoder) {
	r.Refs, r.ReviewAfter, r.Deleting = d.int(), d.time(), d.bool()
}

// Session is an upload session's record (table s), JSON.
type Session struct {
	// Repository is the repository that started the upload.
	Repository string `json:"r"`
	// StartedAt is when it started.
	StartedAt time.Time `json:"s"`
}
