package schema

import (
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry/meta"
)

// DetailRefs is the part of a manifest's Detail that deleting the manifest
// needs: what it holds references to.
type DetailRefs struct {
	// Blobs are Detail.Blobs.
	Blobs []digest.Digest `json:"b,omitempty"`
	// Children are Detail.Children.
	Children []digest.Digest `json:"ch,omitempty"`
}

// Refs reads only the blobs and children of manifest dgst's detail in repo
// (table x), passing over its platform, annotations and index entries
// without building them; a missing detail reads as empty, with found false.
func (DetailTable) Refs(tx meta.Tx, repo string, dgst digest.Digest) (refs DetailRefs, found bool, err error) {
	return get[DetailRefs](tx, key(tDetail, repo, dgst.String()))
}
