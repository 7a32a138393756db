package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/tag"
)

// ref names what lock and unlock change: a repository, a tag (repo:tag) or
// a manifest (repo@digest).
type ref struct {
	repo   string
	tag    string
	digest digest.Digest
}

// kind names what r refers to, as tag.Kind does.
func (r ref) kind() tag.Kind {
	switch {
	case r.digest != "":
		return tag.KindManifest
	case r.tag != "":
		return tag.KindTag
	}
	return tag.KindRepository
}

func (r ref) String() string {
	switch {
	case r.digest != "":
		return r.repo + "@" + r.digest.String()
	case r.tag != "":
		return r.repo + ":" + r.tag
	}
	return r.repo
}

// parseRef parses "repo", "repo:tag" or "repo@digest". Repository names
// hold no colon, so a colon always starts a tag.
func parseRef(s string) (ref, error) {
	var r ref
	name := s
	if before, after, ok := strings.Cut(s, "@"); ok {
		d, err := digest.Parse(after)
		if err != nil {
			return r, usagef("%q: bad digest: %w", s, err)
		}
		name, r.digest = before, d
	}
	if before, after, ok := strings.Cut(name, ":"); ok {
		if r.digest != "" {
			return r, usagef("%q: name a tag or a digest, not both", s)
		}
		if err := tag.ValidateName(after); err != nil {
			return r, usagef("%q: %w", s, err)
		}
		name, r.tag = before, after
	}
	if err := registry.ValidateName(name); err != nil {
		return r, usagef("%q: %w", s, err)
	}
	r.repo = name
	return r, nil
}

// lockResult is one changed item, for --output json.
type lockResult struct {
	Ref        string         `json:"ref"`
	Kind       tag.Kind       `json:"kind"`
	Attributes tag.Attributes `json:"attributes"`
}

// runLock is "regadm lock": writeEnabled=false (ACR's lock: no overwrite,
// untag or delete); --delete also sets deleteEnabled=false; --delete-only
// sets only deleteEnabled=false (deletion refused, updates allowed).
func runLock(ctx context.Context, e *env, args []string) error {
	fs := e.flags("lock")
	var alsoDelete, deleteOnly bool
	fs.BoolVar(&alsoDelete, "delete", false, "also set deleteEnabled=false")
	fs.BoolVar(&deleteOnly, "delete-only", false, "set only deleteEnabled=false: no delete, but overwrites allowed (writeEnabled unchanged)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if alsoDelete && deleteOnly {
		return usagef("lock: --delete and --delete-only exclude each other")
	}
	f := false
	patch := tag.Patch{WriteEnabled: &f}
	switch {
	case alsoDelete:
		patch.DeleteEnabled = &f
	case deleteOnly:
		patch = tag.Patch{DeleteEnabled: &f}
	}
	return e.setAttributes(ctx, "lock", "locked", pos, patch)
}

// runUnlock is "regadm unlock": writeEnabled and deleteEnabled true.
func runUnlock(ctx context.Context, e *env, args []string) error {
	fs := e.flags("unlock")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	t := true
	return e.setAttributes(ctx, "unlock", "unlocked", pos, tag.Patch{WriteEnabled: &t, DeleteEnabled: &t})
}

// setAttributes applies patch to every reference in args, each its own
// change: a failure is reported and the others still go.
func (e *env) setAttributes(ctx context.Context, verb, done string, args []string, patch tag.Patch) error {
	if len(args) == 0 {
		return usagef("%s: name at least one repo, repo:tag or repo@digest", verb)
	}
	refs := make([]ref, 0, len(args))
	for _, a := range args {
		r, err := parseRef(a)
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		refs = append(refs, r)
	}
	if e.registry != "" {
		c, err := e.remote()
		if err != nil {
			return err
		}
		return e.patchEach(refs, verb, done, func(r ref) (tag.Attributes, error) {
			return c.setAttributes(ctx, r, patch)
		})
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		return e.patchEach(refs, verb, done, func(r ref) (tag.Attributes, error) {
			return applyPatch(ctx, reg, r, patch)
		})
	})
}

// patchEach changes each of refs with apply and reports it; a failure is
// reported and the others still change.
func (e *env) patchEach(refs []ref, verb, done string, apply func(ref) (tag.Attributes, error)) error {
	var (
		errs []error
		out  = []lockResult{}
	)
	for _, r := range refs {
		attrs, err := apply(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", verb, r, err))
			continue
		}
		out = append(out, lockResult{Ref: r.String(), Kind: r.kind(), Attributes: attrs})
		if e.output == outputText {
			if _, err := fmt.Fprintf(e.stdout, "%s %s %s: %s\n", done, r.kind(), r, fmtAttributes(attrs)); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
	}
	if e.output == outputJSON {
		if err := e.writeJSON(out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyPatch changes the attributes of the item r names.
func applyPatch(ctx context.Context, reg *registry.Registry, r ref, patch tag.Patch) (tag.Attributes, error) {
	repo, err := reg.Repository(ctx, r.repo)
	if err != nil {
		return tag.Attributes{}, err
	}
	switch r.kind() {
	case tag.KindManifest:
		p, err := repo.Manifests().SetAttributes(ctx, r.digest, patch)
		return p.Attributes, err
	case tag.KindTag:
		p, err := repo.Tags().SetAttributes(ctx, r.tag, patch)
		return p.Attributes, err
	default:
		p, err := repo.SetAttributes(ctx, patch)
		return p.Attributes, err
	}
}

// fmtAttributes writes attributes as ACR's names with their values.
func fmtAttributes(a tag.Attributes) string {
	return fmt.Sprintf("writeEnabled=%t deleteEnabled=%t readEnabled=%t listEnabled=%t",
		a.WriteEnabled, a.DeleteEnabled, a.ReadEnabled, a.ListEnabled)
}
