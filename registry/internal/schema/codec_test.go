package schema

import (
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// FuzzDecodeRecord: the binary records are read back from the metadata
// store, so any bytes must decode to a record or errCorrupt without a
// panic, and a record that decodes must survive encode and decode.
func FuzzDecodeRecord(f *testing.F) {
	now := time.Unix(0, 1700000000123456789).UTC()
	attrs := tag.Attributes{DeleteEnabled: true, ReadEnabled: true}
	for _, r := range []binaryRecord{
		&Repo{CreatedAt: now, UpdatedAt: now, Attributes: attrs, ManifestCount: 3, TagCount: 2},
		&Tag{Digest: digest.FromString("a"), CreatedAt: now, Attributes: attrs},
		&Manifest{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 512,
			Subject: digest.FromString("s"), CreatedAt: now, Tags: 1, UntaggedSince: now},
		&Link{CreatedAt: now, Refs: 4},
		&Blob{Refs: -1, ReviewAfter: now, Deleting: true},
	} {
		f.Add(encodeRecord(r))
	}
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, newRec := range []func() binaryRecord{
			func() binaryRecord { return new(Repo) },
			func() binaryRecord { return new(Tag) },
			func() binaryRecord { return new(Manifest) },
			func() binaryRecord { return new(Link) },
			func() binaryRecord { return new(Blob) },
		} {
			r := newRec()
			if err := decodeRecord(b, r); err != nil {
				if err != errCorrupt {
					t.Fatalf("%T: %v, want errCorrupt", r, err)
				}
				continue
			}
			again := newRec()
			if err := decodeRecord(encodeRecord(r), again); err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("%T round trip: %+v, %v; want %+v", r, again, err, r)
			}
		}
	})
}
