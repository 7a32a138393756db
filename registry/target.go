package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	orasdef "oras.land/oras-go/v2/errdef"
	orasreg "oras.land/oras-go/v2/registry"

	"github.com/regkit/regkit/manifest"
)

// Target is a Repository seen as an oras-go v2 target, so that oras.Copy,
// oras.ExtendedCopy and every tool built on oras-go move artifacts in and
// out of the repository in process. Descriptors of a manifest media type go
// to the repository's manifests, every other descriptor to its blobs.
//
// Every call takes the repository's own path and keeps its rules: a blob is
// visible only once linked into this repository (Exists does not see blobs
// of other repositories), pushed bytes are verified against the expected
// digest and size before anything is stored, manifests are validated and
// refused while a blob or child they reference is missing, and locks hold
// (a write into a write-locked repository or onto a locked tag fails with an
// error wrapping ErrLocked).
//
// Errors carry regkit's classes and, where oras-go has the same one, oras-go's
// (errdef.ErrNotFound, ErrAlreadyExists, ErrUnsupported), so both
// errors.Is(err, registry.ErrNotFound) and oras-go's own checks hold.
type Target struct {
	repo *Repository
}

// Target returns the repository as an oras-go target.
func (r *Repository) Target() *Target { return &Target{repo: r} }

// The oras-go interfaces Target implements.
var (
	_ oras.GraphTarget       = (*Target)(nil)
	_ content.Deleter        = (*Target)(nil)
	_ content.Untagger       = (*Target)(nil)
	_ orasreg.ReferrerLister = (*Target)(nil)
	_ orasreg.TagLister      = (*Target)(nil)
)

// Repository returns the repository the target writes to.
func (t *Target) Repository() *Repository { return t.repo }

// isManifest reports whether desc names a manifest rather than a blob.
func isManifest(desc ocispec.Descriptor) bool {
	return manifest.IsManifestMediaType(desc.MediaType)
}

// Fetch opens the manifest or blob desc names.
func (t *Target) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if isManifest(desc) {
		m, err := t.repo.Manifests().Get(ctx, desc.Digest.String(), GetOptions{})
		if err != nil {
			return nil, orasErr(err)
		}
		if desc.Size > 0 && int64(len(m.Bytes)) != desc.Size {
			return nil, errorf(ErrSizeMismatch, "manifest %s is %d bytes, expected %d", desc.Digest, len(m.Bytes), desc.Size)
		}
		return io.NopCloser(bytes.NewReader(m.Bytes)), nil
	}
	ra, err := t.repo.Blobs().Open(ctx, desc.Digest)
	if err != nil {
		return nil, orasErr(err)
	}
	if desc.Size > 0 && ra.Size() != desc.Size {
		_ = ra.Close()
		return nil, errorf(ErrSizeMismatch, "blob %s is %d bytes, expected %d", desc.Digest, ra.Size(), desc.Size)
	}
	return &sectionCloser{SectionReader: io.NewSectionReader(ra, 0, ra.Size()), c: ra}, nil
}

type sectionCloser struct {
	*io.SectionReader
	c io.Closer
}

func (s *sectionCloser) Close() error { return s.c.Close() }

// Exists reports whether the manifest or blob is in the repository (a blob
// of another repository is not).
func (t *Target) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	var err error
	if isManifest(desc) {
		_, err = t.repo.Manifests().Stat(ctx, desc.Digest.String(), GetOptions{})
	} else {
		_, err = t.repo.Blobs().Stat(ctx, desc.Digest)
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, orasErr(err)
}

// Push stores content as expected: a manifest through Manifests.Put (so it is
// validated and its references checked), a blob through Blobs.Put. The bytes
// must match expected's digest and size. A blob or manifest the repository
// already holds answers an error wrapping ErrAlreadyExists, which oras-go's
// copies take as success.
func (t *Target) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	if err := validDigest(expected.Digest); err != nil {
		return err
	}
	if isManifest(expected) {
		data, err := readManifest(ctx, r, expected, t.repo.reg.opts.manifestOpts.MaxSize)
		if err != nil {
			return err
		}
		if have, _ := t.Exists(ctx, expected); have {
			return orasErr(errorf(ErrAlreadyExists, "manifest %s in %q", expected.Digest, t.repo.name))
		}
		_, err = t.repo.Manifests().Put(ctx, data, PutOptions{MediaType: expected.MediaType, Digest: expected.Digest})
		return orasErr(err)
	}
	if have, err := t.repo.reg.hasLink(ctx, t.repo.name, expected.Digest); err != nil {
		return err
	} else if have {
		return orasErr(errorf(ErrAlreadyExists, "blob %s in %q", expected.Digest, t.repo.name))
	}
	_, err := t.repo.Blobs().Put(ctx, expected.Digest, expected.Size, r)
	return orasErr(err)
}

// readManifest reads a manifest of expected's size, at most maxSize bytes
// (0: manifest.DefaultMaxSize), and checks its size and digest.
func readManifest(ctx context.Context, r io.Reader, expected ocispec.Descriptor, maxSize int64) ([]byte, error) {
	maxSize = manifestLimit(maxSize)
	if expected.Size > maxSize {
		return nil, errorf(ErrTooLarge, "manifest %s of %d bytes, the limit is %d", expected.Digest, expected.Size, maxSize)
	}
	limit := maxSize
	if expected.Size > 0 {
		limit = expected.Size
	}
	data, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		return nil, err
	}
	switch {
	case int64(len(data)) > limit && expected.Size <= 0:
		return nil, errorf(ErrTooLarge, "manifest %s is over %d bytes", expected.Digest, maxSize)
	case expected.Size > 0 && int64(len(data)) != expected.Size:
		return nil, errorf(ErrSizeMismatch, "manifest %s: read %d bytes or more, expected %d", expected.Digest, len(data), expected.Size)
	}
	if got := expected.Digest.Algorithm().FromBytes(data); got != expected.Digest {
		return nil, errorf(ErrDigestMismatch, "manifest bytes hash to %s, expected %s", got, expected.Digest)
	}
	return data, nil
}

// manifestLimit is the manifest size limit of a registry's MaxSize.
func manifestLimit(maxSize int64) int64 {
	if maxSize <= 0 {
		return manifest.DefaultMaxSize
	}
	return maxSize
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Resolve returns the descriptor of the manifest a tag or digest names.
func (t *Target) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	d, err := t.repo.Manifests().Stat(ctx, reference, GetOptions{})
	return d, orasErr(err)
}

// Tag points the tag reference at the manifest desc, which must be stored in
// the repository. Moving a locked tag fails with ErrLocked.
func (t *Target) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	return orasErr(t.repo.Tags().Set(ctx, reference, desc.Digest, SetOptions{}))
}

// Untag removes the tag reference.
func (t *Target) Untag(ctx context.Context, reference string) error {
	return orasErr(t.repo.Tags().Untag(ctx, reference))
}

// Delete deletes a manifest (with its tags and referrers, see
// Manifests.Delete) or unlinks a blob from the repository (Blobs.Delete).
func (t *Target) Delete(ctx context.Context, desc ocispec.Descriptor) error {
	if isManifest(desc) {
		return orasErr(t.repo.Manifests().Delete(ctx, desc.Digest))
	}
	return orasErr(t.repo.Blobs().Delete(ctx, desc.Digest))
}

// Predecessors returns the manifests whose subject is node: its referrers.
// (Indexes holding node as a child are not listed, as with oras-go's remote
// repositories.)
func (t *Target) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	ds, err := t.repo.Manifests().Referrers(ctx, node.Digest, "")
	return ds, orasErr(err)
}

// Referrers calls fn once with the referrers of desc, optionally only those
// of artifactType.
func (t *Target) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func([]ocispec.Descriptor) error) error {
	ds, err := t.repo.Manifests().Referrers(ctx, desc.Digest, artifactType)
	if err != nil {
		return orasErr(err)
	}
	if len(ds) == 0 {
		return nil
	}
	return fn(ds)
}

// Tags calls fn with the repository's tags after last, a page at a time.
func (t *Target) Tags(ctx context.Context, last string, fn func([]string) error) error {
	const page = 1000
	for {
		tags, err := t.repo.Tags().List(ctx, ListOptions{Last: last, N: page})
		if err != nil {
			return orasErr(err)
		}
		if len(tags) == 0 {
			return nil
		}
		if err := fn(tags); err != nil {
			return err
		}
		if len(tags) < page {
			return nil
		}
		last = tags[len(tags)-1]
	}
}

// orasErr adds oras-go's sentinel of the same meaning to a regkit error, so
// that oras-go's copy logic recognises it; the regkit class stays.
func orasErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w (%w)", err, orasdef.ErrNotFound)
	case errors.Is(err, ErrAlreadyExists):
		return fmt.Errorf("%w (%w)", err, orasdef.ErrAlreadyExists)
	case errors.Is(err, ErrUnsupported):
		return fmt.Errorf("%w (%w)", err, orasdef.ErrUnsupported)
	}
	return err
}
