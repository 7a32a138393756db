package main

import (
	"context"
	"fmt"

	"github.com/regkit/regkit/registry"
)

// runExport is "regadm export REF DIR|FILE.tar".
func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("export")
	var opts registry.ExportOptions
	fs.BoolVar(&opts.Referrers, "referrers", false, "also export referrers (signatures, SBOMs), recursively")
	fs.StringVar(&opts.Tag, "tag", "", "name to record in the layout's index.json (default: REF's tag)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("export: want REF (repo:tag or repo@digest) and DIR or FILE.tar, got %d arguments", len(pos))
	}
	r, err := parseRef(pos[0])
	if err != nil {
		return err
	}
	if r.tag == "" && r.digest == "" {
		return usagef("export %q: name a tag (repo:tag) or a digest (repo@digest)", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		res, err := reg.Export(ctx, pos[0], pos[1], opts)
		if err != nil {
			return fmt.Errorf("export %s: %w", pos[0], err)
		}
		if e.output == outputJSON {
			return e.writeJSON(res)
		}
		_, err = fmt.Fprintf(e.stdout, "exported %s (%s) to %s: %s, %s, %s\n", pos[0], res.Descriptor.Digest, pos[1],
			plural(res.Manifests, "manifest"), plural(res.Blobs, "blob"), byteSize(res.Bytes))
		return err
	})
}
