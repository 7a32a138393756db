package manifest

import (
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultMaxSize is the size limit when Options.MaxSize is not set: 4 MiB,
// the limit the OCI distribution specification suggests registries accept
// at least.
const DefaultMaxSize = 4 << 20

// Options tune Parse and Read. The zero value (and a nil *Options) is the
// strict default: known manifest types only, no schema 1, 4 MiB.
type Options struct {
	// MaxSize is the largest manifest accepted, in bytes; 0 or less means
	// DefaultMaxSize. It is checked before any parsing.
	MaxSize int64
	// AllowUnknown accepts a declared media type that is not a manifest
	// type this package knows (the distribution specification lets a
	// registry store any type) as an opaque manifest: its bytes are kept
	// and digested but not interpreted, except that when they are a JSON
	// object its mediaType must match, and its subject, artifactType and
	// annotations are exposed if they are well formed.
	AllowUnknown bool
	// AllowSchema1 accepts Docker schema 1 manifests, signed or not, so old
	// images can be imported. They are always reported as Deprecated.
	AllowSchema1 bool
}

func (o *Options) maxSize() int64 {
	if o == nil || o.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return o.MaxSize
}

// Parse validates data as a manifest of the given media type and returns
// it. mediaType is the declared type (a push's Content-Type; parameters
// are ignored); when it is "" or "application/json" the type is detected
// from the content: the body's mediaType field, else schema 1 by
// schemaVersion 1, else an OCI manifest by its config or an OCI index by its
// manifests. (Undetectable content declared as "application/json" is kept
// as an opaque manifest of that type when Options.AllowUnknown is set.)
//
// The checks follow the specifications: the size limit first; then the
// JSON must be one object without duplicate keys or trailing data;
// schemaVersion must be 2 (1 for schema 1); required fields must be present;
// descriptors need a well-formed mediaType, a digest that parses and a
// size that is not negative; a mediaType field must equal the declared
// type (the Docker types require it, the OCI types may omit it); an OCI
// manifest whose config is the empty descriptor must name an artifactType.
// Layers and index children may be of any well-formed media type.
//
// Errors wrap ErrTooLarge, ErrInvalid (with a specific error such as
// ErrDuplicateKey or ErrMediaTypeMismatch where one applies) or
// ErrUnsupported (ErrUnknownMediaType, ErrSchema1). Parse does not modify or
// keep data; the Manifest holds its own copy of the exact bytes.
func Parse(mediaType string, data []byte, opts *Options) (*Manifest, error) {
	if limit := opts.maxSize(); int64(len(data)) > limit {
		return nil, errorf(ErrTooLarge, "%d bytes, over the limit of %d", len(data), limit)
	}
	mt := baseType(mediaType)
	if mt != "" && !ValidMediaType(mt) {
		return nil, errorf(ErrInvalid, "media type %q is not well formed", truncate(mediaType))
	}
	text := string(data)
	if mt == "" || mt == "application/json" {
		sniffed, err := sniff(text)
		switch {
		case err == nil:
			mt = sniffed
		case mt == "" || opts == nil || !opts.AllowUnknown:
			return nil, errorf(err, "detect media type")
		}
	}
	m := &Manifest{mediaType: mt, text: text}
	var err error
	switch k, known := kindOf(mt); {
	case !known && !(opts != nil && opts.AllowUnknown):
		return nil, errorf(ErrUnknownMediaType, "%q", truncate(mt))
	case !known:
		err = m.fromOpaque()
	case k == kindSchema1 && !(opts != nil && opts.AllowSchema1):
		return nil, errorf(ErrSchema1, "%q", mt)
	case k == kindSchema1:
		err = m.fromSchema1()
	case k == kindImage:
		err = m.fromImage()
	default:
		err = m.fromIndex()
	}
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	sum := sha256.Sum256(data)
	m.digest = digest.NewDigestFromBytes(digest.SHA256, sum[:])
	return m, nil
}

// Read reads a manifest of at most the size limit from r and parses it;
// a longer stream fails with ErrTooLarge without being read to its end.
func Read(r io.Reader, mediaType string, opts *Options) (*Manifest, error) {
	limit := opts.maxSize()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("manifest: read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, errorf(ErrTooLarge, "more than the limit of %d bytes", limit)
	}
	return Parse(mediaType, data, opts)
}

// checkCommon applies the rules image manifests and indexes share.
func checkCommon(doc *document, mt string) error {
	switch {
	case doc.have&(1<<tSchemaVersion) == 0:
		return errMissing("schemaVersion")
	case doc.schemaVersion != 2:
		return atKey("schemaVersion", fmt.Errorf("%d, want 2: %w", doc.schemaVersion, ErrInvalid))
	case doc.mediaType == "" && isDocker(mt):
		return errMissing("mediaType")
	case doc.mediaType != "" && doc.mediaType != mt:
		return atKey("mediaType", fmt.Errorf("%q, declared %q: %w", doc.mediaType, mt, ErrMediaTypeMismatch))
	}
	return nil
}

func (m *Manifest) fromImage() error {
	doc, err := decodeImage(m.text)
	if err != nil {
		return err
	}
	if err := checkCommon(doc, m.mediaType); err != nil {
		return err
	}
	if doc.have&(1<<tConfig) == 0 {
		return errMissing("config")
	}
	if doc.have&(1<<tLayers) == 0 {
		return errMissing("layers")
	}
	if doc.config.MediaType == MediaTypeEmptyJSON {
		if !isEmptyDescriptor(doc.config) {
			return atKey("config", fmt.Errorf("type %s but not the 2 bytes {}: %w", MediaTypeEmptyJSON, ErrInvalid))
		}
		if doc.artifactType == "" && m.mediaType == MediaTypeOCIManifest {
			return errMissing("artifactType") // image-spec: required when config is empty
		}
	}
	for i, l := range doc.layers {
		if l.MediaType == MediaTypeEmptyJSON && !isEmptyDescriptor(l) {
			return atKey("layers", atIndex(i, fmt.Errorf("type %s but not the 2 bytes {}: %w", MediaTypeEmptyJSON, ErrInvalid)))
		}
	}
	m.image = &ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: int(doc.schemaVersion)},
		MediaType:    doc.mediaType,
		ArtifactType: doc.artifactType,
		Config:       doc.config,
		Layers:       doc.layers,
		Subject:      doc.subject,
		Annotations:  doc.annotations,
	}
	m.setCommon(doc)
	return nil
}

func (m *Manifest) fromIndex() error {
	doc, err := decodeIndex(m.text)
	if err != nil {
		return err
	}
	if err := checkCommon(doc, m.mediaType); err != nil {
		return err
	}
	if doc.have&(1<<tManifests) == 0 {
		return errMissing("manifests")
	}
	m.index = &ocispec.Index{
		Versioned:    specs.Versioned{SchemaVersion: int(doc.schemaVersion)},
		MediaType:    doc.mediaType,
		ArtifactType: doc.artifactType,
		Manifests:    doc.layers,
		Subject:      doc.subject,
		Annotations:  doc.annotations,
	}
	m.setCommon(doc)
	return nil
}

func (m *Manifest) fromSchema1() error {
	s1, version, have, err := decodeSchema1(m.text)
	if err == nil {
		err = validateSchema1(s1, version, have)
	}
	if err != nil {
		return err
	}
	m.schema1 = s1
	return nil
}

// fromOpaque keeps the bytes and, when they are a JSON object, checks its
// mediaType and takes what is well formed of subject, artifactType and
// annotations. Other content is accepted as is.
func (m *Manifest) fromOpaque() error {
	doc, err := decodeOpaque(m.text)
	if err != nil {
		return nil // not interpreted
	}
	if doc.mediaType != "" && doc.mediaType != m.mediaType {
		return atKey("mediaType", fmt.Errorf("%q, declared %q: %w", doc.mediaType, m.mediaType, ErrMediaTypeMismatch))
	}
	m.setCommon(doc)
	return nil
}

func (m *Manifest) setCommon(doc *document) {
	m.artifactType = doc.artifactType
	m.subject = doc.subject
	m.annotations = doc.annotations
}
