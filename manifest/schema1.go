package manifest

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Schema1 is a Docker image manifest v2, schema 1, signed or not. The format
// is deprecated: Parse reads it (with Options.AllowSchema1) so that old
// images can be imported, and nothing here writes it.
//
// JWS signatures are not verified: their keys were never anchored to any
// trust, and the registry identifies the manifest by the digest of its
// exact bytes, signatures included. (Docker's registry used the digest of
// the signed payload instead; the two differ for signed manifests.)
type Schema1 struct {
	// Name is the repository name the manifest was pushed to.
	Name string
	// Tag is the tag it was pushed with.
	Tag string
	// Architecture is the CPU architecture of the image.
	Architecture string
	// FSLayers are the blobSum digests of the fsLayers entries, in document
	// order: the top layer first. A digest may repeat (empty layers).
	FSLayers []digest.Digest
	// History holds the v1Compatibility strings (JSON image configs of
	// Docker's v1 format), one for each entry of FSLayers, in the same order.
	History []string
	// Signed is true when the manifest carries JWS signatures.
	Signed bool
}

// Layers returns the layers as descriptors, base layer first (the order of
// a schema 2 manifest, the reverse of FSLayers). Schema 1 records no sizes,
// so each Size is -1; the media type is the Docker gzip layer type.
func (s *Schema1) Layers() []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, len(s.FSLayers))
	for i, d := range s.FSLayers {
		out[len(out)-1-i] = ocispec.Descriptor{MediaType: MediaTypeDockerLayerGzip, Digest: d, Size: -1}
	}
	return out
}

var (
	schema1Fields = []string{"schemaVersion", "name", "tag", "architecture", "fsLayers", "history", "signatures"}
	fsLayerFields = []string{"blobSum"}
	historyFields = []string{"v1Compatibility"}
)

// schema1Version is the schemaVersion of a schema 1 manifest.
const schema1Version = 1

// decodeSchema1 decodes and validates a schema 1 manifest: schemaVersion 1,
// at least one fsLayers entry, each with a valid blobSum, and exactly as
// many history entries, each with a v1Compatibility string.
func decodeSchema1(s string) (*Schema1, int64, uint, error) {
	d := decoder{s: s}
	m := new(Schema1)
	var have uint
	var version int64
	err := d.members(schema1Fields, &have, func(f int) error {
		var err error
		switch f {
		case 0:
			version, err = d.int64()
		case 1:
			m.Name, err = d.str()
		case 2:
			m.Tag, err = d.str()
		case 3:
			m.Architecture, err = d.str()
		case 4:
			err = d.array(func(int) error {
				var sum digest.Digest
				var ok bool
				err := d.object(fsLayerFields, func(f int, _ string) error {
					if f != 0 {
						return d.skip()
					}
					s, err := d.str()
					if err != nil {
						return err
					}
					if sum, err = checkDigest(s); err != nil {
						return fmt.Errorf("%q: %w: %w", truncate(s), err, ErrInvalidDigest)
					}
					ok = true
					return nil
				})
				if err == nil && !ok {
					err = errMissing("blobSum")
				}
				m.FSLayers = append(m.FSLayers, sum)
				return err
			})
		case 5:
			err = d.array(func(int) error {
				var v string
				var ok bool
				err := d.object(historyFields, func(f int, _ string) error {
					if f != 0 {
						return d.skip()
					}
					var err error
					v, err = d.str()
					ok = true
					return err
				})
				if err == nil && !ok {
					err = errMissing("v1Compatibility")
				}
				m.History = append(m.History, v)
				return err
			})
		case 6:
			m.Signed = true
			err = d.skip()
		default:
			err = d.skip()
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	return m, version, have, err
}

// validateSchema1 checks the rules decodeSchema1 cannot check alone.
func validateSchema1(m *Schema1, version int64, have uint) error {
	switch {
	case have&1 == 0:
		return errMissing("schemaVersion")
	case version != schema1Version:
		return atKey("schemaVersion", fmt.Errorf("%d, want 1: %w", version, ErrInvalid))
	case have&(1<<4) == 0 || len(m.FSLayers) == 0:
		return errMissing("fsLayers")
	case len(m.History) != len(m.FSLayers):
		return atKey("history", fmt.Errorf("%d entries for %d fsLayers: %w", len(m.History), len(m.FSLayers), ErrInvalid))
	}
	return nil
}
