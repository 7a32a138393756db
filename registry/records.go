package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// repoRecord is the value under r/repo.
type repoRecord struct {
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Attributes    tag.Attributes
	ManifestCount int
	TagCount      int
}

// tagRecord is the value under t/repo/tag.
type tagRecord struct {
	Digest     digest.Digest
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Attributes tag.Attributes
}

// manifestRecord is the value under m/repo/digest: what the hot paths
// (pull, tag moves, listings) need, in binary. Detail holds the cold part,
// stored as JSON under x/repo/digest and loaded only where needed.
type manifestRecord struct {
	MediaType       string
	Size            int64
	ArtifactType    string
	ConfigMediaType string
	Subject         digest.Digest
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Attributes      tag.Attributes
	// Tags counts the tags pointing here.
	Tags int
	// UntaggedSince is when the last tag left (or the push, for a manifest
	// pushed by digest); zero while tagged.
	UntaggedSince time.Time
	// Detail is the cold part; nil until loadDetail.
	Detail *manifestDetail
}

// manifestDetail is the value under x/repo/digest.
type manifestDetail struct {
	Platform    *ocispec.Platform `json:"p,omitempty"`
	Annotations map[string]string `json:"an,omitempty"`
	// Blobs are the distinct blobs (config, layers) the manifest references;
	// each holds one reference count in the link and blob records.
	Blobs []digest.Digest `json:"b,omitempty"`
	// Children are the distinct manifests an index references.
	Children []digest.Digest `json:"ch,omitempty"`
	// Refs are the child manifests of an index with their platforms, for
	// list-metadata.
	Refs []childRef `json:"r,omitempty"`
}

// loadDetail reads the cold part of a manifest record.
func loadDetail(tx meta.Tx, repo string, dgst digest.Digest, rec *manifestRecord) error {
	rec.Detail = &manifestDetail{}
	_, err := getRec(tx, key(tDetail, repo, dgst.String()), rec.Detail)
	return err
}

// childRef is one child of an index, as list-metadata shows it.
type childRef struct {
	Digest   digest.Digest     `json:"d"`
	Platform *ocispec.Platform `json:"p,omitempty"`
}

// linkRecord is the value under l/repo/blob.
type linkRecord struct {
	CreatedAt time.Time
	// Refs counts manifests of this repository that reference the blob.
	Refs int
}

// blobRecord is the value under g/blob: the registry-wide state of a blob.
type blobRecord struct {
	// Refs counts manifest references across all repositories.
	Refs int
	// ReviewAfter is the earliest time collection may remove the blob when
	// Refs is zero: the end of its grace period.
	ReviewAfter time.Time
	// Deleting is set by the collector between its two transactions, while
	// it removes the bytes from storage.
	Deleting bool
}

// sessionRecord is the value under s/upload.
type sessionRecord struct {
	Repository string    `json:"r"`
	StartedAt  time.Time `json:"s"`
}

// getRec reads key into v (binary for binaryRecords, else JSON). It
// returns false when the key is missing.
func getRec(tx meta.Tx, k []byte, v any) (bool, error) {
	b, err := tx.Get(k)
	if err != nil {
		if errors.Is(err, meta.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, decodeRec(k, b, v)
}

// putRec stores v under key (binary for binaryRecords, else JSON).
func putRec(tx meta.Tx, k []byte, v any) error {
	if br, ok := v.(binaryRecord); ok {
		return tx.Put(k, encodeRecord(br))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("registry: encode record: %w", err)
	}
	return tx.Put(k, b)
}

// exists reports whether key is present.
func exists(tx meta.Tx, k []byte) (bool, error) {
	_, err := tx.Get(k)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, meta.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// decodeRec unmarshals a record read by Get or a scan.
func decodeRec(k, v []byte, into any) error {
	var err error
	if br, ok := into.(binaryRecord); ok {
		err = decodeRecord(v, br)
	} else {
		err = json.Unmarshal(v, into)
	}
	if err != nil {
		return fmt.Errorf("registry: corrupt metadata record %q: %v: %w", k, err, ErrUnavailable)
	}
	return nil
}
