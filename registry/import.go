package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/regkit/regkit/internal/errdef"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Import errors.
var (
	// ErrTagExists: the import's target tag exists and the import is not
	// forced. Nothing was copied.
	ErrTagExists error = errdef.New("target tag exists", ErrAlreadyExists)
	// ErrSourceFailed: the import's source failed in a way no other class
	// describes (a server error, a redirect loop, a broken connection). The
	// source's own error is kept as the cause.
	ErrSourceFailed error = errdef.New("import source failed", ErrUnavailable)
)

// DefaultImportConcurrency is how many blobs an import copies at once when
// ImportOptions.Concurrency is not set.
const DefaultImportConcurrency = 4

// DefaultMaxImportManifests caps the manifests of one import (children and
// referrers included) when ImportOptions.MaxManifests is not set.
const DefaultMaxImportManifests = 1000

// ImportOptions are the per-call settings of Registry.Import.
type ImportOptions struct {
	// Force overwrites an existing target tag. Without it an existing tag
	// fails the import (ErrTagExists) before anything is copied. A locked
	// tag is never overwritten (ErrLocked).
	Force bool
	// Referrers copies the referrers (signatures, SBOMs, attestations) of
	// every copied manifest, and theirs in turn.
	Referrers bool
	// Platforms, when set and the source is an index, copies only the
	// children that best match these platforms: with one platform the
	// matching child manifest itself is imported (as regctl --platform
	// does); with several a new index listing only the matching children is
	// written, so its digest differs from the source's.
	Platforms []ocispec.Platform
	// Concurrency is how many blobs are copied at once;
	// DefaultImportConcurrency when zero or less.
	Concurrency int
	// MaxManifests caps the manifests one import copies;
	// DefaultMaxImportManifests when zero or less.
	MaxManifests int
	// Progress, when set, is called as the copy advances (after each blob
	// and at least every MiB), one call at a time.
	Progress func(ImportProgress)
}

// ImportProgress is the state of an import, as ImportOptions.Progress gets it.
type ImportProgress struct {
	// BytesDone and BytesTotal count blob bytes; blobs that were already
	// in the registry count as done without being transferred.
	BytesDone  int64 `json:"bytesDone"`
	BytesTotal int64 `json:"bytesTotal"`
	// BlobsDone and BlobsTotal count blobs.
	BlobsDone  int `json:"blobsDone"`
	BlobsTotal int `json:"blobsTotal"`
}

// ImportResult describes a finished import.
type ImportResult struct {
	// Repository and Tag are the target; Tag is empty for an untagged import.
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	// Descriptor is the imported manifest's (for a platform selection, the
	// selected child or the new index).
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Manifests counts the manifests of the import (children and referrers
	// included), ManifestsStored those that were new to the repository.
	Manifests       int `json:"manifests"`
	ManifestsStored int `json:"manifestsStored"`
	// Referrers counts the referrer manifests among Manifests.
	Referrers int `json:"referrers"`
	// Blobs counts the blobs of the import. BlobsPresent were in the
	// repository already, BlobsLinked were linked from another repository
	// of the registry, BlobsTransferred were read from the source.
	Blobs            int `json:"blobs"`
	BlobsPresent     int `json:"blobsPresent"`
	BlobsLinked      int `json:"blobsLinked"`
	BlobsTransferred int `json:"blobsTransferred"`
	// BytesTransferred counts the blob bytes read from the source.
	BytesTransferred int64 `json:"bytesTransferred"`
}

// Import copies the artifact srcRef (a tag or a digest) names in src into
// the registry, as ACR's import does. src is any oras-go read-only target:
// another registry's repository (Repository.Target), an OCI image layout
// (OpenLayout) or a remote registry (NewRemote).
//
// target is "repository[:tag]". Without a tag the source's tag is used; a
// source named by digest without a target tag is imported untagged. An
// existing target tag fails the import before anything is copied unless
// opts.Force is set, and a locked tag or repository refuses it (ErrLocked).
//
// An index is copied with every child (or those of opts.Platforms). Blobs the
// repository holds are kept, blobs another repository of the registry holds
// are linked without reading the source, and the rest are read from the
// source, verified against their digest and size, and stored. Blobs are
// copied first, then manifests children first, and the tag is set last: an
// import that fails or is cancelled leaves no manifest that references a
// missing blob and no tag, and a retry transfers only what is missing.
func (r *Registry) Import(ctx context.Context, src oras.ReadOnlyTarget, srcRef, target string, opts ImportOptions) (*ImportResult, error) {
	name, tg, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if srcRef == "" {
		return nil, errorf(ErrInvalid, "import: no source reference")
	}
	if tg == "" && !strings.Contains(srcRef, ":") {
		tg = srcRef
	}
	repo, err := r.Repository(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := r.checkImportTarget(ctx, name, tg, opts.Force); err != nil {
		return nil, err
	}
	root, err := src.Resolve(ctx, srcRef)
	if err != nil {
		return nil, sourceErr(fmt.Sprintf("resolve %q", srcRef), err)
	}
	g := &importGraph{src: src, maxSize: r.opts.manifestOpts.MaxSize, mopts: r.opts.manifestOpts,
		max: opts.MaxManifests, seen: map[digest.Digest]bool{}, blobSeen: map[digest.Digest]bool{}}
	if g.max <= 0 {
		g.max = DefaultMaxImportManifests
	}
	root, err = g.addRoot(ctx, root, opts.Platforms)
	if err != nil {
		return nil, err
	}
	if opts.Referrers {
		if err := g.addReferrers(ctx); err != nil {
			return nil, err
		}
	}
	res := &ImportResult{Repository: name, Tag: tg, Descriptor: root, Manifests: len(g.nodes), Blobs: len(g.blobs)}
	for _, n := range g.nodes {
		if n.referrer {
			res.Referrers++
		}
	}
	if err := r.importBlobs(ctx, repo, src, g.blobs, opts, res); err != nil {
		return nil, err
	}
	for _, n := range g.nodes {
		stored, err := r.hasManifest(ctx, name, n.desc.Digest)
		if err != nil {
			return nil, err
		}
		if stored {
			continue
		}
		if _, err := repo.Manifests().Put(ctx, n.data, PutOptions{MediaType: n.desc.MediaType, Digest: n.desc.Digest}); err != nil {
			return nil, fmt.Errorf("registry: import manifest %s: %w", n.desc.Digest, err)
		}
		res.ManifestsStored++
	}
	if tg != "" {
		err := repo.Tags().Set(ctx, tg, root.Digest, SetOptions{IfAbsent: !opts.Force})
		if errors.Is(err, ErrConflict) {
			err = errorf(ErrTagExists, "tag %q in %q: %w", tg, name, err)
		}
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// parseTarget splits "repository[:tag]".
func parseTarget(target string) (name, tg string, err error) {
	name = target
	if i := strings.LastIndexByte(target, ':'); i >= 0 && !strings.Contains(target[i:], "/") {
		name, tg = target[:i], target[i+1:]
		if err := tag.ValidateName(tg); err != nil {
			return "", "", errorf(ErrTagInvalid, "import target %q: %w", target, err)
		}
	}
	if strings.Contains(name, "@") {
		return "", "", errorf(ErrInvalid, "import target %q: a target is repository[:tag]", target)
	}
	return name, tg, ValidateName(name)
}

// checkImportTarget refuses, before anything is copied, an import into a
// write-locked repository, onto an existing tag without force, or onto a
// locked tag.
func (r *Registry) checkImportTarget(ctx context.Context, name, tg string, force bool) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	return r.view(ctx, func(tx meta.Tx) error {
		repo, err := loadRepo(tx, name)
		if err != nil {
			return err
		}
		if err := tag.CheckWrite(repo.item()); err != nil {
			return err
		}
		if tg == "" {
			return nil
		}
		rec, ok, err := schema.Tags.Get(tx, name, tg)
		if err != nil || !ok {
			return err
		}
		if !force {
			return errorf(ErrTagExists, "tag %q in %q points to %s", tg, name, rec.Digest)
		}
		return tag.CheckTagMove(repo.item(), tag.Tag(tg, rec.Attributes))
	})
}

// hasLink reports whether dgst is linked into repository name.
func (r *Registry) hasLink(ctx context.Context, name string, dgst digest.Digest) (bool, error) {
	if err := r.enter(); err != nil {
		return false, err
	}
	defer r.leave()
	var ok bool
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		ok, err = schema.Links.Has(tx, name, dgst)
		return err
	})
	return ok, err
}

// hasManifest reports whether repository name stores manifest dgst.
func (r *Registry) hasManifest(ctx context.Context, name string, dgst digest.Digest) (bool, error) {
	if err := r.enter(); err != nil {
		return false, err
	}
	defer r.leave()
	var ok bool
	err := r.view(ctx, func(tx meta.Tx) error {
		var err error
		ok, err = schema.Manifests.Has(tx, name, dgst)
		return err
	})
	return ok, err
}

// importBlobs brings every blob into repo: kept when linked already, linked
// when another repository holds it, else read from src and stored.
func (r *Registry) importBlobs(ctx context.Context, repo *Repository, src oras.ReadOnlyTarget, blobs []ocispec.Descriptor, opts ImportOptions, res *ImportResult) error {
	p := &progress{fn: opts.Progress}
	p.state.BlobsTotal = len(blobs)
	for _, b := range blobs {
		p.state.BytesTotal += max(b.Size, 0)
	}
	p.report(true)
	var mu sync.Mutex
	count := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultImportConcurrency
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(n)
	for _, b := range blobs {
		eg.Go(func() error {
			have, err := r.hasLink(ctx, repo.name, b.Digest)
			if err != nil {
				return err
			}
			if have {
				count(func() { res.BlobsPresent++ })
				p.blobDone(b.Size)
				return nil
			}
			info, err := repo.Blobs().Mount(ctx, b.Digest, "")
			switch {
			case err == nil && b.Size >= 0 && info.Size != b.Size:
				return errorf(ErrSizeMismatch, "import: blob %s is %d bytes in the registry, the source says %d", b.Digest, info.Size, b.Size)
			case err == nil:
				count(func() { res.BlobsLinked++ })
				p.blobDone(b.Size)
				return nil
			case !errors.Is(err, ErrBlobUnknown):
				return err
			}
			rc, err := src.Fetch(ctx, b)
			if err != nil {
				return sourceErr("fetch blob "+b.Digest.String(), err)
			}
			defer rc.Close()
			cr := &countingReader{r: rc, p: p}
			if _, err := repo.Blobs().Put(ctx, b.Digest, b.Size, cr); err != nil {
				var se *sourceReadError
				if errors.As(err, &se) {
					return sourceErr("read blob "+b.Digest.String(), se.err)
				}
				err = fmt.Errorf("registry: import blob %s: %w", b.Digest, err)
				if errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrSizeMismatch) {
					err = &sourceError{err} // the source's bytes were wrong
				}
				return err
			}
			count(func() { res.BlobsTransferred++; res.BytesTransferred += cr.n })
			p.blobDone(b.Size - cr.n)
			return nil
		})
	}
	return eg.Wait()
}

// progress serialises and throttles ImportOptions.Progress.
type progress struct {
	fn       func(ImportProgress)
	mu       sync.Mutex
	state    ImportProgress
	reported int64
}

func (p *progress) add(n int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	p.state.BytesDone += n
	p.mu.Unlock()
	p.report(false)
}

// blobDone counts a finished blob and the rest of its bytes.
func (p *progress) blobDone(rest int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	p.state.BytesDone += max(rest, 0)
	p.state.BlobsDone++
	p.mu.Unlock()
	p.report(true)
}

func (p *progress) report(force bool) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !force && p.state.BytesDone-p.reported < 1<<20 {
		return
	}
	p.reported = p.state.BytesDone
	p.fn(p.state)
}

// countingReader counts what it reads into a progress.
type countingReader struct {
	r io.Reader
	p *progress
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.add(int64(n))
	if err != nil && err != io.EOF {
		err = &sourceReadError{err}
	}
	return n, err
}

// sourceReadError marks an error of the source's reader, to tell it from
// the registry's own failures.
type sourceReadError struct{ err error }

func (e *sourceReadError) Error() string { return e.err.Error() }
func (e *sourceReadError) Unwrap() error { return e.err }
