package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content/oci"
	orasdef "oras.land/oras-go/v2/errdef"
)

// ExportOptions are the per-call settings of Registry.Export.
type ExportOptions struct {
	// Referrers exports the referrers of every exported manifest too, and
	// theirs in turn.
	Referrers bool
	// Tag is the name the layout records for the artifact (index.json's
	// org.opencontainers.image.ref.name); by default the tag of ref, and
	// none for a ref by digest.
	Tag string
	// Concurrency is how many blobs are written at once;
	// DefaultImportConcurrency when zero or less.
	Concurrency int
}

// ExportResult describes a finished export.
type ExportResult struct {
	// Descriptor is the exported manifest's.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Tag is the name recorded in the layout, if any.
	Tag string `json:"tag,omitempty"`
	// Manifests and Blobs count what the layout received (referrers
	// included); Bytes counts the blob bytes.
	Manifests int   `json:"manifests"`
	Blobs     int   `json:"blobs"`
	Bytes     int64 `json:"bytes"`
}

// Export writes the artifact ref ("repository:tag" or
// "repository@digest") with every child, and with its referrers when asked,
// as an OCI image layout: a folder at path (created, or added to when it
// holds a layout already), or a tar archive of one when path ends in ".tar".
// The layout is written with oras-go's content/oci, as oras writes it: every
// manifest is listed in index.json, the artifact under its tag. oras, crane
// and skopeo read it (oci:PATH:TAG, oci-archive:FILE.tar:TAG).
func (r *Registry) Export(ctx context.Context, ref, path string, opts ExportOptions) (*ExportResult, error) {
	name, reference, tg, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	if opts.Tag != "" {
		tg = opts.Tag
	}
	repo, err := r.Repository(ctx, name)
	if err != nil {
		return nil, err
	}
	src := repo.Target()
	root, err := src.Resolve(ctx, reference)
	if err != nil {
		return nil, err
	}
	g := &importGraph{src: src, maxSize: r.opts.manifestOpts.MaxSize, mopts: r.opts.manifestOpts,
		max: DefaultMaxImportManifests * 100, seen: map[digest.Digest]bool{}, blobSeen: map[digest.Digest]bool{}}
	if err := g.walk(ctx, root, false); err != nil {
		return nil, err
	}
	if opts.Referrers {
		if err := g.addReferrers(ctx); err != nil {
			return nil, err
		}
	}
	archive := strings.HasSuffix(path, ".tar")
	dir := path
	if archive {
		if dir, err = os.MkdirTemp(filepath.Dir(path), ".export-*"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	res, err := exportTo(ctx, src, g, dir, root, tg, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	if archive {
		if err := tarDir(ctx, dir, path); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// parseRef splits "repository:tag" or "repository@digest".
func parseRef(ref string) (name, reference, tg string, err error) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		name, reference = ref[:i], ref[i+1:]
		if err := validDigest(digest.Digest(reference)); err != nil {
			return "", "", "", err
		}
		return name, reference, "", ValidateName(name)
	}
	name, tg, err = parseTarget(ref)
	if err != nil {
		return "", "", "", err
	}
	if tg == "" {
		return "", "", "", errorf(ErrInvalid, "export %q: a reference is repository:tag or repository@digest", ref)
	}
	return name, tg, tg, nil
}

func exportTo(ctx context.Context, src *Target, g *importGraph, dir string, root ocispec.Descriptor, tg string, concurrency int) (*ExportResult, error) {
	store, err := oci.New(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: export to %q: %w", dir, err)
	}
	store.AutoSaveIndex = false
	res := &ExportResult{Descriptor: root, Tag: tg, Manifests: len(g.nodes), Blobs: len(g.blobs)}
	if concurrency <= 0 {
		concurrency = DefaultImportConcurrency
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(concurrency)
	for _, b := range g.blobs {
		res.Bytes += b.Size
		eg.Go(func() error {
			if ok, err := store.Exists(ectx, b); err != nil || ok {
				return err
			}
			rc, err := src.Fetch(ectx, b)
			if err != nil {
				return err
			}
			defer rc.Close()
			return layoutErr(store.Push(ectx, b, rc))
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("registry: export: %w", err)
	}
	for _, n := range g.nodes {
		if err := layoutErr(store.Push(ctx, n.desc, bytes.NewReader(n.data))); err != nil {
			return nil, fmt.Errorf("registry: export manifest %s: %w", n.desc.Digest, err)
		}
	}
	if tg != "" {
		if err := store.Tag(ctx, root, tg); err != nil {
			return nil, fmt.Errorf("registry: export tag %q: %w", tg, err)
		}
	}
	if err := store.SaveIndex(); err != nil {
		return nil, fmt.Errorf("registry: export: %w", err)
	}
	return res, nil
}

func layoutErr(err error) error {
	if errors.Is(err, orasdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// tarDir writes the files under dir into a tar archive at path, through a
// temporary file renamed into place.
func tarDir(ctx context.Context, dir, path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*.tar")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "ingest") {
			return nil
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755})
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: info.Size()}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
