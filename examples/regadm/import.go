package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/registry"
)

// platformList is the repeatable --platform flag.
type platformList []ocispec.Platform

func (p *platformList) String() string {
	var s []string
	for _, pl := range *p {
		s = append(s, manifest.FormatPlatform(pl))
	}
	return strings.Join(s, ",")
}

// Set adds one platform, or several separated by commas.
func (p *platformList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		pl, err := manifest.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		*p = append(*p, pl)
	}
	return nil
}

// Source prefixes.
const (
	prefixLayout  = "oci:"
	prefixArchive = "oci-archive:"
	prefixRegkit  = "regkit:"
)

// runImport is "regadm import SOURCE TARGET".
func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("import")
	var (
		opts      registry.ImportOptions
		platforms platformList
		remote    registry.RemoteOptions
	)
	fs.BoolVar(&opts.Force, "force", false, "overwrite an existing target tag (never a locked one)")
	fs.BoolVar(&opts.Referrers, "referrers", false, "also copy referrers (signatures, SBOMs), recursively")
	fs.Var(&platforms, "platform", "copy only this platform of an index (os/arch[/variant]); repeatable or comma-separated")
	fs.IntVar(&opts.Concurrency, "concurrency", 0, fmt.Sprintf("blobs copied at once (default %d)", registry.DefaultImportConcurrency))
	fs.BoolVar(&remote.PlainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to a remote source")
	fs.StringVar(&remote.Username, "username", "", "user name for a remote source")
	fs.StringVar(&remote.Password, "password", "", "password or token for a remote source (env REGKIT_PASSWORD)")
	fs.StringVar(&remote.DockerConfig, "docker-config", "-", "Docker config file with credentials for a remote source (\"-\": Docker's default, \"\": none)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("import: want SOURCE and TARGET, got %d arguments", len(pos))
	}
	if opts.Concurrency < 0 || opts.Concurrency > maxConcurrency {
		return usagef("--concurrency %d: want 1 to %d", opts.Concurrency, maxConcurrency)
	}
	if remote.Password == "" {
		remote.Password = os.Getenv("REGKIT_PASSWORD")
	}
	if remote.Password != "" && remote.Username == "" {
		return usagef("import: --password without --username")
	}
	opts.Platforms = platforms
	source, target := pos[0], pos[1]
	if _, _, err := splitTarget(target); err != nil {
		return err
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		src, ref, done, err := openSource(ctx, e, reg, source, remote)
		if err != nil {
			return err
		}
		defer done()
		var pr *progress
		if e.terminal {
			pr = newProgress(e.stderr, time.Now)
			opts.Progress = pr.importUpdate
		}
		res, err := reg.Import(ctx, src, ref, target, opts)
		if pr != nil {
			pr.clear()
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", source, err)
		}
		if e.output == outputJSON {
			return e.writeJSON(res)
		}
		name := res.Repository
		if res.Tag != "" {
			name += ":" + res.Tag
		}
		_, err = fmt.Fprintf(e.stdout, "imported %s to %s@%s: %s, %s (%d transferred, %d linked, %d present), %s transferred\n",
			source, name, res.Descriptor.Digest, plural(res.Manifests, "manifest"), plural(res.Blobs, "blob"),
			res.BlobsTransferred, res.BlobsLinked, res.BlobsPresent, byteSize(res.BytesTransferred))
		return err
	})
}

// splitTarget checks "repository[:tag]".
func splitTarget(target string) (string, string, error) {
	name, tg, _ := strings.Cut(target, ":")
	if err := registry.ValidateName(name); err != nil {
		return "", "", usagef("import target %q: %w", target, err)
	}
	return name, tg, nil
}

// openSource opens SOURCE: a layout folder or archive, another regkit data
// folder, or a remote registry. It returns the reference to import and a
// function that releases the source.
func openSource(ctx context.Context, e *env, reg *registry.Registry, source string, ro registry.RemoteOptions) (oras.ReadOnlyTarget, string, func(), error) {
	nothing := func() {}
	switch {
	case strings.HasPrefix(source, prefixLayout), strings.HasPrefix(source, prefixArchive):
		path, ref := splitPathRef(strings.TrimPrefix(strings.TrimPrefix(source, prefixArchive), prefixLayout))
		layout, err := registry.OpenLayout(ctx, path)
		if err != nil {
			return nil, "", nil, err
		}
		if ref == "" {
			if ref, err = onlyTag(ctx, layout); err != nil {
				return nil, "", nil, fmt.Errorf("%s: %w", source, err)
			}
		}
		return layout, ref, nothing, nil
	case strings.HasPrefix(source, prefixRegkit):
		dir, repoRef, err := splitRegkit(strings.TrimPrefix(source, prefixRegkit))
		if err != nil {
			return nil, "", nil, err
		}
		name, ref := splitRepoRef(repoRef)
		if ref == "" {
			return nil, "", nil, usagef("%s: name a tag or a digest (regkit:DIR/repo:tag)", source)
		}
		srcReg, done := reg, nothing
		if !sameDir(dir, e.data) {
			if srcReg, err = openData(ctx, dir); err != nil {
				return nil, "", nil, err
			}
			done = func() { _ = srcReg.Close() }
		}
		repo, err := srcReg.Repository(ctx, name)
		if err != nil {
			done()
			return nil, "", nil, err
		}
		return repo.Target(), ref, done, nil
	}
	src, ref, err := registry.NewRemote(source, ro)
	if err != nil {
		return nil, "", nil, usagef("source %q: %w", source, err)
	}
	if ref == "" {
		ref = "latest"
	}
	return src, ref, nothing, nil
}

// splitPathRef splits "PATH[:tag|@digest]": a last ":" or "@" followed by
// no "/" starts the reference.
func splitPathRef(s string) (path, ref string) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if _, err := digest.Parse(s[i+1:]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && !strings.ContainsAny(s[i+1:], "/\\") {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// splitRepoRef splits "repo:tag" or "repo@digest".
func splitRepoRef(s string) (name, ref string) {
	if name, ref, ok := strings.Cut(s, "@"); ok {
		return name, ref
	}
	name, ref, _ = strings.Cut(s, ":")
	return name, ref
}

// splitRegkit splits "DIR/repo:tag": DIR is the longest leading part of the
// path that is a regkit data folder (it holds meta.db).
func splitRegkit(s string) (dir, rest string, err error) {
	path, _ := splitRepoRef(s)
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '/' {
			continue
		}
		if _, err := os.Stat(filepath.Join(path[:i], metaFile)); err == nil {
			return path[:i], s[i+1:], nil
		}
	}
	return "", "", usagef("regkit:%s: no regkit data folder (with %s) at the start of the path", s, metaFile)
}

func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// onlyTag returns a layout's tag when it has exactly one.
func onlyTag(ctx context.Context, s interface {
	Tags(ctx context.Context, last string, fn func([]string) error) error
}) (string, error) {
	var tags []string
	if err := s.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil }); err != nil {
		return "", err
	}
	if len(tags) != 1 {
		return "", usagef("the layout has %d tags (%s): name one (oci:PATH:TAG) or a digest (oci:PATH@DIGEST)", len(tags), strings.Join(tags, ", "))
	}
	return tags[0], nil
}

// importUpdate is a registry.ImportOptions.Progress callback.
func (p *progress) importUpdate(ip registry.ImportProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	if t.Sub(p.start) < p.delay || (!p.last.IsZero() && t.Sub(p.last) < p.every) {
		return
	}
	p.last = t
	line := fmt.Sprintf("%d/%d blobs, %s of %s", ip.BlobsDone, ip.BlobsTotal, byteSize(ip.BytesDone), byteSize(ip.BytesTotal))
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
