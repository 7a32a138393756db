package manifest

import (
	"encoding/base64"
	"fmt"
	"net/url"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// errMissing reports a required field that is absent (or null).
func errMissing(field string) error {
	return atKey(field, fmt.Errorf("required: %w", ErrInvalid))
}

// mediaType reads a string that must be a well-formed media type.
func (d *decoder) mediaType() (string, error) {
	s, err := d.str()
	if err != nil {
		return "", err
	}
	if !ValidMediaType(s) {
		return "", fmt.Errorf("%q is not a well-formed media type: %w", truncate(s), ErrInvalid)
	}
	return s, nil
}

// The fields of a descriptor, in the order of their presence bits.
var descriptorFields = []string{"mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"}

const (
	dMediaType = iota
	dDigest
	dSize
	dURLs
	dAnnotations
	dData
	dPlatform
	dArtifactType
)

// descriptor reads and validates a content descriptor: mediaType, digest
// and size are required, the digest must parse, the size must not be
// negative, urls must be absolute URIs and embedded data must match the
// digest and size.
func (d *decoder) descriptor(desc *ocispec.Descriptor) error {
	var have uint
	err := d.members(descriptorFields, &have, func(f int) error {
		var err error
		switch f {
		case dMediaType:
			desc.MediaType, err = d.mediaType()
		case dDigest:
			var s string
			if s, err = d.str(); err == nil {
				if desc.Digest, err = checkDigest(s); err != nil {
					// One class: an unavailable algorithm is an
					// invalid descriptor here, not ErrUnsupported.
					err = fmt.Errorf("%q: %w: %w", truncate(s), err, ErrInvalidDigest)
				}
			}
		case dSize:
			if desc.Size, err = d.int64(); err == nil && desc.Size < 0 {
				err = fmt.Errorf("%d is negative: %w", desc.Size, ErrInvalid)
			}
		case dURLs:
			desc.URLs, err = d.urls()
		case dAnnotations:
			desc.Annotations, err = d.stringMap()
		case dData:
			var s string
			if s, err = d.str(); err == nil {
				if desc.Data, err = base64.StdEncoding.DecodeString(s); err != nil {
					err = fmt.Errorf("not base64: %w: %w", err, ErrInvalid)
				}
			}
		case dPlatform:
			desc.Platform = new(ocispec.Platform)
			err = d.platform(desc.Platform)
		case dArtifactType:
			desc.ArtifactType, err = d.mediaType()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range [...]int{dMediaType, dDigest, dSize} {
		if have&(1<<f) == 0 {
			return errMissing(descriptorFields[f])
		}
	}
	if have&(1<<dData) != 0 {
		if err := verifyData(*desc); err != nil {
			return atKey("data", err)
		}
	}
	return nil
}

// verifyData checks embedded data against the descriptor's size and digest.
func verifyData(desc ocispec.Descriptor) error {
	if int64(len(desc.Data)) != desc.Size {
		return fmt.Errorf("%d bytes, size says %d: %w", len(desc.Data), desc.Size, ErrInvalid)
	}
	if desc.Digest.Algorithm().FromBytes(desc.Data) != desc.Digest {
		return fmt.Errorf("does not hash to %s: %w", desc.Digest, ErrInvalid)
	}
	return nil
}

// urls reads a descriptor's urls: each must be an absolute URI.
func (d *decoder) urls() ([]string, error) {
	list, err := d.stringArray()
	if err != nil {
		return nil, err
	}
	for i, s := range list {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() {
			return nil, atIndex(i, fmt.Errorf("%q is not an absolute URI: %w", truncate(s), ErrInvalid))
		}
	}
	return list, nil
}

var platformFields = []string{"architecture", "os", "os.version", "os.features", "variant"}

// platform reads a platform object; architecture and os are required.
func (d *decoder) platform(p *ocispec.Platform) error {
	var have uint
	err := d.object(platformFields, func(f int, _ string) error {
		if d.null() {
			return nil
		}
		var err error
		switch f {
		case 0:
			p.Architecture, err = d.str()
		case 1:
			p.OS, err = d.str()
		case 2:
			p.OSVersion, err = d.str()
		case 3:
			p.OSFeatures, err = d.stringArray()
		case 4:
			p.Variant, err = d.str()
		default:
			return d.skip()
		}
		have |= 1 << f
		return err
	})
	if err != nil {
		return err
	}
	if have&1 == 0 || p.Architecture == "" {
		return errMissing("architecture")
	}
	if have&2 == 0 || p.OS == "" {
		return errMissing("os")
	}
	return nil
}

// descriptors reads an array of descriptors.
func (d *decoder) descriptors() ([]ocispec.Descriptor, error) {
	list := []ocispec.Descriptor{}
	err := d.array(func(i int) error {
		if i == 0 {
			list = make([]ocispec.Descriptor, 0, 8)
		}
		list = append(list, ocispec.Descriptor{})
		return d.descriptor(&list[len(list)-1])
	})
	return list, err
}

// The top-level fields of image manifests and indexes, in the order of
// their presence bits. An image manifest interprets config and layers, an
// index manifests; the other two are unknown fields there.
var (
	imageFields = []string{"schemaVersion", "mediaType", "artifactType", "subject", "annotations", "config", "layers"}
	indexFields = []string{"schemaVersion", "mediaType", "artifactType", "subject", "annotations", "manifests"}
)

const (
	tSchemaVersion = iota
	tMediaType
	tArtifactType
	tSubject
	tAnnotations
	tConfig              // image manifests
	tLayers              // image manifests
	tManifests = tConfig // indexes
)

// document is what the decoder found at the top level of an image manifest
// or an index.
type document struct {
	have          uint
	schemaVersion int64
	mediaType     string
	artifactType  string
	subject       *ocispec.Descriptor
	annotations   map[string]string
	config        ocispec.Descriptor
	layers        []ocispec.Descriptor // layers of a manifest, manifests of an index
}

// common decodes the fields image manifests and indexes share (f <
// tConfig); it reports false for the others.
func (d *decoder) common(doc *document, f int) (bool, error) {
	var err error
	switch f {
	case tSchemaVersion:
		doc.schemaVersion, err = d.int64()
	case tMediaType:
		doc.mediaType, err = d.mediaType()
	case tArtifactType:
		doc.artifactType, err = d.mediaType()
	case tSubject:
		doc.subject = new(ocispec.Descriptor)
		err = d.descriptor(doc.subject)
	case tAnnotations:
		doc.annotations, err = d.stringMap()
	default:
		return false, nil
	}
	return true, err
}

// decodeImage decodes an image manifest (OCI or Docker schema 2).
func decodeImage(s string) (*document, error) {
	return decodeDocument(s, imageFields, func(d *decoder, doc *document, f int) error {
		switch f {
		case tConfig:
			return d.descriptor(&doc.config)
		case tLayers:
			var err error
			doc.layers, err = d.descriptors()
			return err
		}
		return d.skip()
	})
}

// decodeIndex decodes an OCI index or a Docker manifest list.
func decodeIndex(s string) (*document, error) {
	return decodeDocument(s, indexFields, func(d *decoder, doc *document, f int) error {
		if f == tManifests {
			var err error
			doc.layers, err = d.descriptors()
			return err
		}
		return d.skip()
	})
}

// decodeDocument decodes one JSON object of the given fields: nulls are
// skipped, present fields are recorded in doc.have, the fields every type
// shares go to decoder.common and the rest to field; nothing may follow
// the object.
func decodeDocument(s string, fields []string, field func(d *decoder, doc *document, f int) error) (*document, error) {
	d := decoder{s: s}
	doc := new(document)
	err := d.members(fields, &doc.have, func(f int) error {
		if ok, err := d.common(doc, f); ok {
			return err
		}
		return field(&d, doc, f)
	})
	if err == nil {
		err = d.end()
	}
	return doc, err
}

// opaqueFields are what an opaque manifest may still tell, when it is JSON.
var opaqueFields = []string{"mediaType", "artifactType", "subject", "annotations"}

// decodeOpaque reads, when s is a JSON object, the fields every manifest
// type shares by convention; anything else is not interpreted.
func decodeOpaque(s string) (*document, error) {
	d := decoder{s: s}
	doc := new(document)
	err := d.object(opaqueFields, func(f int, _ string) error {
		if d.null() {
			return nil
		}
		if f < 0 {
			return d.skip()
		}
		_, err := d.common(doc, f+1) // opaqueFields are the common ones from tMediaType on
		return err
	})
	if err == nil {
		err = d.end()
	}
	return doc, err
}

// sniffFields are the keys that tell manifest shapes apart.
var sniffFields = []string{"schemaVersion", "mediaType", "config", "manifests", "fsLayers", "signatures"}

// sniff finds the media type of a manifest that was pushed without one:
// the mediaType field when present, else schema 1 by schemaVersion 1 (signed
// when it has signatures), else an OCI manifest by its config or an OCI
// index by its manifests.
func sniff(s string) (string, error) {
	d := decoder{s: s}
	var have uint
	var version int64
	var mt string
	err := d.object(sniffFields, func(f int, _ string) error {
		if f >= 0 && !d.null() {
			have |= 1 << f
			switch f {
			case 0:
				v, err := d.int64()
				version = v
				return err
			case 1:
				v, err := d.mediaType()
				mt = v
				return err
			}
		}
		return d.skip()
	})
	if err == nil {
		err = d.end()
	}
	switch {
	case err != nil:
		return "", err
	case mt != "":
		return mt, nil
	case version == 1 && have&(1<<5) != 0:
		return MediaTypeDockerSchema1Signed, nil
	case version == 1:
		return MediaTypeDockerSchema1, nil
	case have&(1<<2) != 0 && have&(1<<3) == 0:
		return MediaTypeOCIManifest, nil
	case have&(1<<3) != 0 && have&(1<<2) == 0:
		return MediaTypeOCIIndex, nil
	}
	return "", ErrNoMediaType
}

// emptyJSON is the content of the empty descriptor.
const emptyJSON = "{}"

// isEmptyDescriptor checks that a descriptor of type MediaTypeEmptyJSON
// really describes the two bytes "{}".
func isEmptyDescriptor(desc ocispec.Descriptor) bool {
	return desc.Size == int64(len(emptyJSON)) &&
		digestString(desc.Digest.Algorithm(), emptyJSON) == desc.Digest
}
