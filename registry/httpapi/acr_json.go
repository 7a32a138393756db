package httpapi

import (
	"time"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// The JSON bodies of ACR's data-plane API (api-version 2021-07-01), with the
// field names of its REST specification and the Azure SDKs' models.

// acrTime renders a time as ACR does: UTC, seven fractional digits, "Z"
// (2021-07-08T20:41:17.1234567Z). It parses as RFC 3339.
type acrTime time.Time

const acrTimeLayout = "2006-01-02T15:04:05.0000000Z"

// MarshalText renders the time.
func (t acrTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(acrTimeLayout)), nil
}

// acrRepository is a repository's properties (ContainerRepositoryProperties).
type acrRepository struct {
	Registry       string         `json:"registry"`
	ImageName      string         `json:"imageName"`
	CreatedTime    acrTime        `json:"createdTime"`
	LastUpdateTime acrTime        `json:"lastUpdateTime"`
	ManifestCount  int            `json:"manifestCount"`
	TagCount       int            `json:"tagCount"`
	Attributes     tag.Attributes `json:"changeableAttributes"`
}

func toACRRepository(host string, p registry.RepositoryProperties) acrRepository {
	return acrRepository{
		Registry: host, ImageName: p.Name,
		CreatedTime: acrTime(p.CreatedAt), LastUpdateTime: acrTime(p.UpdatedAt),
		ManifestCount: p.ManifestCount, TagCount: p.TagCount, Attributes: p.Attributes,
	}
}

// acrTag is one tag (TagAttributes).
type acrTag struct {
	Name           string         `json:"name"`
	Digest         string         `json:"digest"`
	CreatedTime    acrTime        `json:"createdTime"`
	LastUpdateTime acrTime        `json:"lastUpdateTime"`
	Attributes     tag.Attributes `json:"changeableAttributes"`
}

func toACRTag(p registry.TagProperties) acrTag {
	return acrTag{
		Name: p.Name, Digest: p.Digest.String(),
		CreatedTime: acrTime(p.CreatedAt), LastUpdateTime: acrTime(p.UpdatedAt),
		Attributes: p.Attributes,
	}
}

// acrTagList is a page of tags (TagList).
type acrTagList struct {
	Registry  string   `json:"registry"`
	ImageName string   `json:"imageName"`
	Tags      []acrTag `json:"tags"`
}

// acrTagProperties is one tag's properties (ArtifactTagProperties).
type acrTagProperties struct {
	Registry  string `json:"registry"`
	ImageName string `json:"imageName"`
	Tag       acrTag `json:"tag"`
}

// acrPlatformRef is one child of an index (ArtifactManifestPlatform).
type acrPlatformRef struct {
	Digest       string `json:"digest"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
}

// acrManifest is one manifest (ManifestAttributes). Architecture and os are
// an image's platform; references list an index's children.
type acrManifest struct {
	Digest          string           `json:"digest"`
	ImageSize       int64            `json:"imageSize"`
	CreatedTime     acrTime          `json:"createdTime"`
	LastUpdateTime  acrTime          `json:"lastUpdateTime"`
	Architecture    string           `json:"architecture,omitempty"`
	OS              string           `json:"os,omitempty"`
	MediaType       string           `json:"mediaType,omitempty"`
	ConfigMediaType string           `json:"configMediaType,omitempty"`
	Tags            []string         `json:"tags,omitempty"`
	References      []acrPlatformRef `json:"references,omitempty"`
	Attributes      tag.Attributes   `json:"changeableAttributes"`
}

func toACRManifest(p registry.ManifestProperties) acrManifest {
	m := acrManifest{
		Digest: p.Digest.String(), ImageSize: p.Size,
		CreatedTime: acrTime(p.CreatedAt), LastUpdateTime: acrTime(p.UpdatedAt),
		MediaType: p.MediaType, ConfigMediaType: p.ConfigMediaType,
		Tags: p.Tags, Attributes: p.Attributes,
	}
	if p.Platform != nil {
		m.Architecture, m.OS = p.Platform.Architecture, p.Platform.OS
	}
	for _, c := range p.References {
		ref := acrPlatformRef{Digest: c.Digest.String()}
		if c.Platform != nil {
			ref.Architecture, ref.OS = c.Platform.Architecture, c.Platform.OS
		}
		m.References = append(m.References, ref)
	}
	return m
}

// acrManifestList is a page of manifests (Manifests).
type acrManifestList struct {
	Registry  string        `json:"registry"`
	ImageName string        `json:"imageName"`
	Manifests []acrManifest `json:"manifests"`
}

// acrManifestProperties is one manifest's properties
// (ArtifactManifestProperties).
type acrManifestProperties struct {
	Registry  string      `json:"registry"`
	ImageName string      `json:"imageName"`
	Manifest  acrManifest `json:"manifest"`
}

// acrDeleted is the answer to a repository delete (DeleteRepositoryResult).
type acrDeleted struct {
	ManifestsDeleted []string `json:"manifestsDeleted"`
	TagsDeleted      []string `json:"tagsDeleted"`
}

// acrDeletedRepository is one soft-deleted repository. ACR's entry has
// repository, createdAt and deletedAt; expiresAt (deletedAt plus the
// current soft-delete days, which ACR's clients compute) is regkit's.
type acrDeletedRepository struct {
	Repository string  `json:"repository"`
	CreatedAt  acrTime `json:"createdAt"`
	DeletedAt  acrTime `json:"deletedAt"`
	ExpiresAt  acrTime `json:"expiresAt"`
}

// acrDeletedCatalogBody is a page of soft-deleted repositories.
type acrDeletedCatalogBody struct {
	Repositories []acrDeletedRepository `json:"repositories"`
}

// acrDeletedTag is one soft-deleted tag: ACR's tag, digest and deletedAt,
// and regkit's expiresAt.
type acrDeletedTag struct {
	Tag       string  `json:"tag"`
	Digest    string  `json:"digest"`
	DeletedAt acrTime `json:"deletedAt"`
	ExpiresAt acrTime `json:"expiresAt"`
}

// acrDeletedTagList is a page of soft-deleted tags.
type acrDeletedTagList struct {
	Registry  string          `json:"registry"`
	ImageName string          `json:"imageName"`
	Tags      []acrDeletedTag `json:"tags"`
}

// acrDeletedManifest is one soft-deleted manifest, with the tags it
// carried when it was deleted (to restore with it), and for a referrer its
// subject (to restore first).
type acrDeletedManifest struct {
	Digest       string   `json:"digest"`
	MediaType    string   `json:"mediaType"`
	ArtifactType string   `json:"artifactType,omitempty"`
	Subject      string   `json:"subject,omitempty"`
	Size         int64    `json:"size"`
	Tags         []string `json:"tags"`
	CreatedAt    acrTime  `json:"createdAt"`
	DeletedAt    acrTime  `json:"deletedAt"`
	ExpiresAt    acrTime  `json:"expiresAt"`
}

func toACRDeletedManifest(d registry.DeletedManifest) acrDeletedManifest {
	m := acrDeletedManifest{
		Digest: d.Digest.String(), MediaType: d.MediaType, ArtifactType: d.ArtifactType,
		Subject: d.Subject.String(), Size: d.Size, Tags: d.Tags,
		CreatedAt: acrTime(d.CreatedAt), DeletedAt: acrTime(d.DeletedAt), ExpiresAt: acrTime(d.ExpiresAt),
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	return m
}

// acrDeletedManifestList is a page of soft-deleted manifests.
type acrDeletedManifestList struct {
	Registry  string               `json:"registry"`
	ImageName string               `json:"imageName"`
	Manifests []acrDeletedManifest `json:"manifests"`
}

// acrOverwrittenTag is a tag a forced restore moved, with the digest it
// left.
type acrOverwrittenTag struct {
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
}

// acrRestored is the answer to a restore: the manifest, whether it and its
// repository came back from the deleted state, the tags now pointing at
// it that the restore set, the tags force moved, and the manifests force
// left untagged and soft-deleted.
type acrRestored struct {
	Registry           string              `json:"registry"`
	ImageName          string              `json:"imageName"`
	Digest             string              `json:"digest"`
	ManifestRestored   bool                `json:"manifestRestored"`
	RepositoryRestored bool                `json:"repositoryRestored"`
	Tags               []string            `json:"tags"`
	OverwrittenTags    []acrOverwrittenTag `json:"overwrittenTags"`
	DeletedManifests   []string            `json:"deletedManifests"`
}
