package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	orasdef "oras.land/oras-go/v2/errdef"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/manifest"
)

// importGraph is what an import copies, read from the source before
// anything is written: every manifest (verified and validated) in an order
// where children come before the manifests that hold them, and every blob
// once.
type importGraph struct {
	src      content.ReadOnlyStorage
	maxSize  int64
	mopts    manifest.Options
	max      int
	nodes    []importNode
	blobs    []ocispec.Descriptor
	seen     map[digest.Digest]bool
	blobSeen map[digest.Digest]bool
}

type importNode struct {
	desc     ocispec.Descriptor
	data     []byte
	referrer bool
}

// addRoot walks the graph of root, after the platform selection, and
// returns the descriptor to tag.
func (g *importGraph) addRoot(ctx context.Context, root ocispec.Descriptor, platforms []ocispec.Platform) (ocispec.Descriptor, error) {
	if len(platforms) == 0 || !manifest.IsIndexMediaType(root.MediaType) {
		return root, g.walk(ctx, root, false)
	}
	data, err := g.fetch(ctx, root)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m, err := manifest.Parse(root.MediaType, data, &g.mopts)
	if err != nil {
		return ocispec.Descriptor{}, &sourceError{fmt.Errorf("registry: import: manifest %s: %w", root.Digest, err)}
	}
	var picked []ocispec.Descriptor
	chosen := map[digest.Digest]bool{}
	for _, p := range platforms {
		c, err := manifest.SelectPlatform(m.Index(), p)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("registry: import %s: %w", root.Digest, err)
		}
		if !chosen[c.Digest] {
			chosen[c.Digest] = true
			picked = append(picked, c)
		}
	}
	if len(platforms) == 1 {
		return picked[0], g.walk(ctx, picked[0], false)
	}
	for _, c := range picked {
		if err := g.walk(ctx, c, false); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	idx := ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   m.MediaType(),
		Manifests:   picked,
		Annotations: m.Annotations(),
	}
	data, err = json.Marshal(idx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: idx.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	return desc, g.add(desc, data, false)
}

// walk fetches the manifest desc and, depth first, everything it holds.
func (g *importGraph) walk(ctx context.Context, desc ocispec.Descriptor, referrer bool) error {
	if g.seen[desc.Digest] {
		return nil
	}
	data, err := g.fetch(ctx, desc)
	if err != nil {
		return err
	}
	m, err := manifest.Parse(desc.MediaType, data, &g.mopts)
	if err != nil {
		return &sourceError{fmt.Errorf("registry: import: manifest %s: %w", desc.Digest, err)}
	}
	g.seen[desc.Digest] = true
	for _, ref := range m.References() {
		switch {
		case ref.Kind == manifest.KindSubject, ref.Foreign() && len(ref.URLs) > 0:
		case ref.Kind == manifest.KindManifest:
			if err := g.walk(ctx, ref.Descriptor, referrer); err != nil {
				return err
			}
		case !g.blobSeen[ref.Digest]:
			g.blobSeen[ref.Digest] = true
			g.blobs = append(g.blobs, ref.Descriptor)
		}
	}
	return g.add(desc, data, referrer)
}

func (g *importGraph) add(desc ocispec.Descriptor, data []byte, referrer bool) error {
	if len(g.nodes) >= g.max {
		return errorf(ErrTooLarge, "import of more than %d manifests", g.max)
	}
	g.seen[desc.Digest] = true
	g.nodes = append(g.nodes, importNode{desc: desc, data: data, referrer: referrer})
	return nil
}

// fetch reads and verifies one manifest of the source.
func (g *importGraph) fetch(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if err := validDigest(desc.Digest); err != nil {
		return nil, &sourceError{err}
	}
	if !manifest.IsManifestMediaType(desc.MediaType) && !g.mopts.AllowUnknown {
		return nil, &sourceError{errorf(ErrUnsupported, "import: %s has media type %q, not a manifest", desc.Digest, desc.MediaType)}
	}
	if limit := manifestLimit(g.maxSize); desc.Size > limit {
		return nil, &sourceError{errorf(ErrTooLarge, "import: manifest %s of %d bytes, the limit is %d", desc.Digest, desc.Size, limit)}
	}
	rc, err := g.src.Fetch(ctx, desc)
	if err != nil {
		return nil, sourceErr("fetch manifest "+desc.Digest.String(), err)
	}
	defer rc.Close()
	data, err := readManifest(ctx, &countingReader{r: rc, p: &progress{}}, desc, g.maxSize)
	var se *sourceReadError
	if errors.As(err, &se) {
		return nil, sourceErr("read manifest "+desc.Digest.String(), se.err)
	}
	if err != nil {
		return nil, &sourceError{fmt.Errorf("registry: import source: %w", err)}
	}
	return data, nil
}

// addReferrers adds the referrers of every manifest in the graph, and theirs
// in turn.
func (g *importGraph) addReferrers(ctx context.Context) error {
	for i := 0; i < len(g.nodes); i++ {
		n := g.nodes[i]
		refs, err := listReferrers(ctx, g.src, n.desc)
		if err != nil {
			return sourceErr("referrers of "+n.desc.Digest.String(), err)
		}
		for _, d := range refs {
			if err := g.walk(ctx, d, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// listReferrers uses the source's referrers API, or its predecessors
// filtered by subject (oras-go's registry.Referrers).
func listReferrers(ctx context.Context, src content.ReadOnlyStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	switch s := src.(type) {
	case orasreg.ReferrerLister:
		var out []ocispec.Descriptor
		err := s.Referrers(ctx, desc, "", func(ds []ocispec.Descriptor) error {
			out = append(out, ds...)
			return nil
		})
		return out, err
	case content.ReadOnlyGraphStorage:
		return orasreg.Referrers(ctx, s, desc, "")
	}
	return nil, errorf(ErrUnsupported, "import: the source (%T) cannot list referrers", src)
}

// sourceError marks an error as the source's doing (what it sent or how it
// failed), as opposed to the registry's own, for the artifact cache, which
// answers a client differently for each. Its text and classes are those of
// the error it holds.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// isSourceError reports whether err is the import source's doing.
func isSourceError(err error) bool {
	var se *sourceError
	return errors.As(err, &se)
}

// sourceErr classifies an error of the import's source: it keeps a regkit
// class the error has, maps oras-go's and HTTP's to regkit's, and files the
// rest under ErrSourceFailed, keeping the cause.
func sourceErr(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("registry: import source: %s: %w", what, err)
	}
	if errdef.Class(err) != nil {
		return &sourceError{fmt.Errorf("registry: import source: %s: %w", what, err)}
	}
	class := ErrSourceFailed
	var er *errcode.ErrorResponse
	switch {
	case errors.As(err, &er) && er.StatusCode == http.StatusUnauthorized, errors.Is(err, auth.ErrBasicCredentialNotFound):
		class = errdef.ErrUnauthorized
	case errors.As(err, &er) && er.StatusCode == http.StatusForbidden:
		class = errdef.ErrDenied
	case errors.As(err, &er) && er.StatusCode == http.StatusNotFound, errors.Is(err, orasdef.ErrNotFound):
		class = ErrNotFound
	case errors.Is(err, orasdef.ErrSizeExceedsLimit):
		class = ErrTooLarge
	case errors.Is(err, content.ErrMismatchedDigest):
		class = ErrDigestMismatch
	case errors.Is(err, content.ErrTrailingData), errors.Is(err, content.ErrInvalidDescriptorSize):
		class = ErrSizeMismatch
	case errors.Is(err, orasdef.ErrInvalidReference), errors.Is(err, orasdef.ErrInvalidDigest):
		class = ErrInvalid
	// oras-go's remote checks these headers with errors of no type.
	case strings.Contains(err.Error(), "mismatch Content-Length"):
		class = ErrSizeMismatch
	case strings.Contains(err.Error(), "digest mismatch in"):
		class = ErrDigestMismatch
	}
	return &sourceError{fmt.Errorf("registry: import source: %s: %w: %w", what, class, err)}
}
