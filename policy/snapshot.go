package policy

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// Snapshot describes one repository at one moment, as plain values. The
// registry builds it inside one read transaction; tests and hosts may build
// it by hand.
type Snapshot struct {
	// Repository is the repository's name.
	Repository string `json:"repository"`
	// Attributes are the repository's own; writeEnabled=false protects
	// everything in it.
	Attributes tag.Attributes `json:"attributes"`
	// Tags lists every tag, in any order. A manifest's tags are the entries
	// here that name its digest.
	Tags []Tag `json:"tags"`
	// Manifests lists every manifest, in any order.
	Manifests []Manifest `json:"manifests"`
}

// Tag is one tag of a Snapshot.
type Tag struct {
	// Name is the tag.
	Name string `json:"name"`
	// Digest is the manifest it points to.
	Digest digest.Digest `json:"digest"`
	// CreatedAt is when the tag was first pushed.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when it last moved (ACR's lastUpdateTime); zero means
	// CreatedAt.
	UpdatedAt time.Time `json:"lastUpdateTime,omitzero"`
	// LastPulled is when it was last pulled by this tag; zero: never, or
	// not recorded.
	LastPulled time.Time `json:"lastPulled,omitzero"`
	// Attributes are the tag's own.
	Attributes tag.Attributes `json:"attributes"`
}

// Manifest is one manifest of a Snapshot.
type Manifest struct {
	// Digest identifies the manifest.
	Digest digest.Digest `json:"digest"`
	// MediaType is the manifest's media type.
	MediaType string `json:"mediaType,omitempty"`
	// ArtifactType is the artifact type, when the manifest has one.
	ArtifactType string `json:"artifactType,omitempty"`
	// CreatedAt is when it was first pushed.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when it was last pushed or changed; zero means
	// CreatedAt.
	UpdatedAt time.Time `json:"lastUpdateTime,omitzero"`
	// UntaggedSince is when it lost its last tag (zero while tagged, or for
	// a manifest never tagged: then CreatedAt counts).
	UntaggedSince time.Time `json:"untaggedSince,omitzero"`
	// LastPulled is its last recorded pull, by tag or digest; zero: never,
	// or not recorded.
	LastPulled time.Time `json:"lastPulled,omitzero"`
	// Attributes are the manifest's own.
	Attributes tag.Attributes `json:"attributes"`
	// Subject is the manifest this one refers to (a signature's image);
	// empty when none.
	Subject digest.Digest `json:"subject,omitempty"`
	// Children are the manifests an index lists.
	Children []digest.Digest `json:"children,omitempty"`
}

// updated returns UpdatedAt, or CreatedAt when UpdatedAt is zero.
func (t *Tag) updated() time.Time {
	if t.UpdatedAt.IsZero() {
		return t.CreatedAt
	}
	return t.UpdatedAt
}

// updated returns UpdatedAt, or CreatedAt when UpdatedAt is zero.
func (m *Manifest) updated() time.Time {
	if m.UpdatedAt.IsZero() {
		return m.CreatedAt
	}
	return m.UpdatedAt
}

// untaggedAt returns when the manifest became untagged: UntaggedSince, or
// CreatedAt for one never tagged.
func (m *Manifest) untaggedAt() time.Time {
	if m.UntaggedSince.IsZero() {
		return m.CreatedAt
	}
	return m.UntaggedSince
}
