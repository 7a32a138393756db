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
	CreatedAt     time.Time      `json:"c"`
	UpdatedAt     time.Time      `json:"u"`
	Attributes    tag.Attributes `json:"a"`
	ManifestCount int            `json:"m"`
	TagCount      int            `json:"t"`
}

// tagRecord is the value under t/repo/tag.
type tagRecord struct {
	Digest     digest.Digest  `json:"d"`
	CreatedAt  time.Time      `json:"c"`
	UpdatedAt  time.Time      `json:"u"`
	Attributes tag.Attributes `json:"a"`
}

// manifestRecord is the value under m/repo/digest: everything the registry
// needs to answer about a manifest without parsing its bytes again.
type manifestRecord struct {
	MediaType       string            `json:"mt"`
	Size            int64             `json:"s"`
	ArtifactType    string            `json:"at,omitempty"`
	ConfigMediaType string            `json:"cmt,omitempty"`
	Subject         digest.Digest     `json:"sub,omitempty"`
	Platform        *ocispec.Platform `json:"p,omitempty"`
	Annotations     map[string]string `json:"an,omitempty"`
	CreatedAt       time.Time         `json:"c"`
	UpdatedAt       time.Time         `json:"u"`
	Attributes      tag.Attributes    `json:"a"`
	// Blobs are the distinct blobs (config, layers) the manifest references;
	// each holds one reference count in the link and blob records.
	Blobs []digest.Digest `json:"b,omitempty"`
	// Children are the distinct manifests an index references.
	Children []digest.Digest `json:"ch,omitempty"`
	// Refs are the child manifests of an index with their platforms, for
	// list-metadata.
	Refs []childRef `json:"r,omitempty"`
	// Tags counts the tags pointing here.
	Tags int `json:"t"`
	// UntaggedSince is when the last tag left (or the push, for a manifest
	// pushed by digest); zero while tagged.
	UntaggedSince time.Time `json:"us,omitzero"`
}

// childRef is one child of an index, as list-metadata shows it.
type childRef struct {
	Digest   digest.Digest     `json:"d"`
	Platform *ocispec.Platform `json:"p,omitempty"`
}

// linkRecord is the value under l/repo/blob.
type linkRecord struct {
	CreatedAt time.Time `json:"c"`
	// Refs counts manifests of this repository that reference the blob.
	Refs int `json:"r"`
}

// blobRecord is the value under g/blob: the registry-wide state of a blob.
type blobRecord struct {
	// Refs counts manifest references across all repositories.
	Refs int `json:"r"`
	// ReviewAfter is the earliest time collection may remove the blob when
	// Refs is zero: the end of its grace period.
	ReviewAfter time.Time `json:"ra"`
	// Deleting is set by the collector between its two transactions, while
	// it removes the bytes from storage.
	Deleting bool `json:"del,omitempty"`
}

// sessionRecord is the value under s/upload.
type sessionRecord struct {
	Repository string    `json:"r"`
	StartedAt  time.Time `json:"s"`
}

// getJSON reads key into v. It returns false when the key is missing.
func getJSON(tx meta.Tx, k []byte, v any) (bool, error) {
	b, err := tx.Get(k)
	if err != nil {
		if errors.Is(err, meta.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("registry: corrupt metadata record %q: %v: %w", k, err, ErrUnavailable)
	}
	return true, nil
}

// putJSON stores v under key.
func putJSON(tx meta.Tx, k []byte, v any) error {
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

// decode unmarshals a record read by a scan.
func decode(k, v []byte, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("registry: corrupt metadata record %q: %v: %w", k, err, ErrUnavailable)
	}
	return nil
}
