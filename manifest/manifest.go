package manifest

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest is a validated manifest: its exact bytes, their digest and the
// typed view of its content. It is immutable and safe for concurrent use.
// Slices, maps and pointers it returns share memory with it: callers must
// not modify them.
type Manifest struct {
	mediaType string
	text      string // the exact bytes
	digest    digest.Digest

	// Shared by every shape that has them.
	artifactType string
	subject      *ocispec.Descriptor
	annotations  map[string]string

	// At most one is set; none for an opaque manifest.
	image   *ocispec.Manifest
	index   *ocispec.Index
	schema1 *Schema1
}

// MediaType returns the manifest's media type: the declared one without
// parameters, or the detected one.
func (m *Manifest) MediaType() string { return m.mediaType }

// Bytes returns a copy of the exact bytes that were parsed.
func (m *Manifest) Bytes() []byte { return []byte(m.text) }

// WriteTo writes the exact bytes to w without copying them first.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, m.text)
	return int64(n), err
}

// Size returns the length of the bytes.
func (m *Manifest) Size() int64 { return int64(len(m.text)) }

// Digest returns the sha256 digest of the exact bytes.
func (m *Manifest) Digest() digest.Digest { return m.digest }

// DigestAs returns the digest of the exact bytes with another algorithm
// (sha512 for a manifest pushed by a sha512 digest). The error wraps
// ErrUnsupported when alg is not available.
func (m *Manifest) DigestAs(alg digest.Algorithm) (digest.Digest, error) {
	if alg == digest.SHA256 {
		return m.digest, nil
	}
	if !alg.Available() {
		return "", errorf(ErrUnsupported, "digest algorithm %q", truncate(string(alg)))
	}
	return digestString(alg, m.text), nil
}

// Descriptor describes the manifest as the referrers API lists it:
// mediaType, digest, size, artifactType (see ArtifactType) and annotations.
func (m *Manifest) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:    m.mediaType,
		Digest:       m.digest,
		Size:         m.Size(),
		ArtifactType: m.ArtifactType(),
		Annotations:  m.annotations,
	}
}

// ArtifactType returns the artifactType field; for an image manifest
// without one, the config's media type, as the referrers API specifies. An
// index's artifact type is its own field only.
func (m *Manifest) ArtifactType() string {
	if m.artifactType == "" && m.image != nil {
		return m.image.Config.MediaType
	}
	return m.artifactType
}

// Subject returns the manifest this one refers to (a signature's image),
// or nil. Every shape but schema 1 may have one (for an opaque manifest,
// when its JSON has a well-formed subject). The subject need not exist in
// the registry.
func (m *Manifest) Subject() *ocispec.Descriptor { return m.subject }

// Annotations returns the manifest's annotations, or nil.
func (m *Manifest) Annotations() map[string]string { return m.annotations }

// Config returns the config descriptor of an image manifest, nil for
// other shapes.
func (m *Manifest) Config() *ocispec.Descriptor {
	if m.image == nil {
		return nil
	}
	return &m.image.Config
}

// Layers returns the layers of an image manifest, or of a schema 1
// manifest (base layer first, sizes -1); nil for other shapes.
func (m *Manifest) Layers() []ocispec.Descriptor {
	switch {
	case m.image != nil:
		return m.image.Layers
	case m.schema1 != nil:
		return m.schema1.Layers()
	}
	return nil
}

// Manifests returns the children of an index or manifest list, nil for
// other shapes.
func (m *Manifest) Manifests() []ocispec.Descriptor {
	if m.index == nil {
		return nil
	}
	return m.index.Manifests
}

// Image returns the typed content of an OCI image manifest or Docker
// schema 2 manifest (which share the shape), nil for other shapes.
func (m *Manifest) Image() *ocispec.Manifest { return m.image }

// Index returns the typed content of an OCI index or Docker manifest list
// (which share the shape), nil for other shapes.
func (m *Manifest) Index() *ocispec.Index { return m.index }

// Schema1 returns the typed content of a Docker schema 1 manifest, nil for
// other shapes.
func (m *Manifest) Schema1() *Schema1 { return m.schema1 }

// IsIndex reports whether the manifest is an OCI index or a Docker manifest list.
func (m *Manifest) IsIndex() bool { return m.index != nil }

// IsOpaque reports whether the manifest is of a type this package does not
// interpret (accepted with Options.AllowUnknown).
func (m *Manifest) IsOpaque() bool { return m.image == nil && m.index == nil && m.schema1 == nil }

// Deprecated reports whether the manifest is in a deprecated format
// (Docker schema 1).
func (m *Manifest) Deprecated() bool { return m.schema1 != nil }

// IsHelmChart reports whether the manifest is a Helm chart stored as an OCI
// artifact (its config is of type MediaTypeHelmConfig).
func (m *Manifest) IsHelmChart() bool {
	return m.image != nil && m.image.Config.MediaType == MediaTypeHelmConfig
}

// Kind classifies a reference from a manifest.
type Kind int

// The kinds of references.
const (
	// KindConfig is the config blob of an image manifest.
	KindConfig Kind = iota + 1
	// KindLayer is a layer blob of an image (or schema 1) manifest.
	KindLayer
	// KindManifest is a child manifest of an index.
	KindManifest
	// KindSubject is the manifest a referrer points to; it need not exist.
	KindSubject
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindLayer:
		return "layer"
	case KindManifest:
		return "manifest"
	case KindSubject:
		return "subject"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Reference is one descriptor a manifest depends on, with its kind.
type Reference struct {
	// Kind says how the manifest uses the descriptor.
	Kind Kind
	// Descriptor is a copy of the descriptor as the manifest wrote it.
	ocispec.Descriptor
}

// Foreign reports whether the reference is a non-distributable layer that
// a registry need not hold (see IsForeign).
func (r Reference) Foreign() bool { return r.Kind == KindLayer && IsForeign(r.MediaType) }

// References returns every descriptor the manifest depends on, in document
// order: an image manifest's config, then its layers; an index's children;
// a schema 1 manifest's layers (base first, sizes -1); then the subject,
// if any (an opaque manifest has at most that). A descriptor appears once
// for each place it is used, so a digest may repeat.
func (m *Manifest) References() []Reference {
	var out []Reference
	switch {
	case m.image != nil:
		out = make([]Reference, 0, 2+len(m.image.Layers))
		out = append(out, Reference{Kind: KindConfig, Descriptor: m.image.Config})
		for _, l := range m.image.Layers {
			out = append(out, Reference{Kind: KindLayer, Descriptor: l})
		}
	case m.index != nil:
		out = make([]Reference, 0, 1+len(m.index.Manifests))
		for _, c := range m.index.Manifests {
			out = append(out, Reference{Kind: KindManifest, Descriptor: c})
		}
	case m.schema1 != nil:
		for _, l := range m.schema1.Layers() {
			out = append(out, Reference{Kind: KindLayer, Descriptor: l})
		}
	}
	if m.subject != nil {
		out = append(out, Reference{Kind: KindSubject, Descriptor: *m.subject})
	}
	return out
}
