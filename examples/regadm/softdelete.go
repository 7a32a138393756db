package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regkit/regkit/registry"
)

// runSoftDeleteShow is "regadm soft-delete show".
func runSoftDeleteShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("soft-delete show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("soft-delete show: unexpected argument %q", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		p, err := reg.SoftDelete(ctx)
		if err != nil {
			return fmt.Errorf("soft-delete show: %w", err)
		}
		return e.printSoftDelete(p)
	})
}

// runSoftDeleteSet is "regadm soft-delete set": each flag given replaces
// its part of the setting; a flag left out keeps the current value.
func runSoftDeleteSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("soft-delete set")
	var (
		enabled bool
		days    int
	)
	fs.BoolVar(&enabled, "enabled", false, "turn soft delete on (--enabled=true) or off (--enabled=false)")
	fs.IntVar(&days, "days", 0, fmt.Sprintf("days a deleted item stays restorable, 1 to %d", registry.MaxSoftDeleteDays))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("soft-delete set: unexpected argument %q (write --enabled=false, with the =)", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["enabled"] && !set["days"] {
		return usagef("soft-delete set: give --enabled=true|false, --days N, or both")
	}
	if set["days"] && (days < 1 || days > registry.MaxSoftDeleteDays) {
		return usagef("--days %d: want 1 to %d", days, registry.MaxSoftDeleteDays)
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if !set["enabled"] || !set["days"] {
			cur, err := reg.SoftDelete(ctx)
			if err != nil {
				return fmt.Errorf("soft-delete set: read the current setting: %w", err)
			}
			if !set["enabled"] {
				enabled = cur.Enabled
			}
			if !set["days"] {
				days = cur.Days
			}
		}
		p, err := reg.SetSoftDelete(ctx, enabled, days)
		if err != nil {
			if errors.Is(err, registry.ErrInvalid) {
				return usagef("soft-delete set: %w", err)
			}
			return fmt.Errorf("soft-delete set: %w", err)
		}
		return e.printSoftDelete(p)
	})
}

// printSoftDelete writes the soft-delete setting.
func (e *env) printSoftDelete(p registry.SoftDeletePolicy) error {
	if e.output == outputJSON {
		return e.writeJSON(p)
	}
	s := fmt.Sprintf("Soft delete: disabled (days: %d; items deleted while it was on stay restorable that long).", p.Days)
	if p.Enabled {
		s = fmt.Sprintf("Soft delete: enabled, %s: deleted manifests, tags and repositories stay restorable that long.", plural(p.Days, "day"))
	}
	if _, err := fmt.Fprintln(e.stdout, s); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// deletedPage is how many items one read of a deleted listing takes.
const deletedPage = 1000

// The JSON of deleted list.
type (
	deletedRepoJSON struct {
		Repository string    `json:"repository"`
		CreatedAt  time.Time `json:"createdAt"`
		DeletedAt  time.Time `json:"deletedAt"`
		ExpiresAt  time.Time `json:"expiresAt"`
	}
	deletedManifestJSON struct {
		Digest       string    `json:"digest"`
		MediaType    string    `json:"mediaType"`
		ArtifactType string    `json:"artifactType,omitempty"`
		Subject      string    `json:"subject,omitempty"`
		Size         int64     `json:"size"`
		Tags         []string  `json:"tags"`
		CreatedAt    time.Time `json:"createdAt"`
		DeletedAt    time.Time `json:"deletedAt"`
		ExpiresAt    time.Time `json:"expiresAt"`
	}
	deletedTagJSON struct {
		Tag       string    `json:"tag"`
		Digest    string    `json:"digest"`
		DeletedAt time.Time `json:"deletedAt"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	deletedContentJSON struct {
		Repository string                `json:"repository"`
		Manifests  []deletedManifestJSON `json:"manifests"`
		Tags       []deletedTagJSON      `json:"tags"`
	}
)

// runDeletedList is "regadm deleted list [--repository R]": the
// soft-deleted repositories, or the soft-deleted manifests and tags of R,
// newest first, each with its deletion time and expiry.
func runDeletedList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("deleted list")
	repoName := fs.String("repository", "", "list the deleted manifests and tags of repository `R` (live or deleted) instead of the deleted repositories")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("deleted list: unexpected argument %q", pos[0])
	}
	if *repoName != "" {
		if err := registry.ValidateName(*repoName); err != nil {
			return usagef("--repository %q: %w", *repoName, err)
		}
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		if *repoName == "" {
			return e.listDeletedRepositories(ctx, reg)
		}
		repo, err := reg.Repository(ctx, *repoName)
		if err != nil {
			return fmt.Errorf("deleted list: %w", err)
		}
		return e.listDeletedContent(ctx, repo)
	})
}

// allPages reads every page of a deleted listing.
func allPages[T any](ctx context.Context, list func(context.Context, registry.DeletedListOptions) ([]T, string, error)) ([]T, error) {
	var out []T
	opts := registry.DeletedListOptions{N: deletedPage}
	for {
		page, next, err := list(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		opts.Cursor = next
	}
}

func (e *env) listDeletedRepositories(ctx context.Context, reg *registry.Registry) error {
	repos, err := allPages(ctx, reg.DeletedRepositories)
	if err != nil {
		return fmt.Errorf("deleted list: %w", err)
	}
	if e.output == outputJSON {
		out := make([]deletedRepoJSON, 0, len(repos))
		for _, r := range repos {
			out = append(out, deletedRepoJSON{Repository: r.Name, CreatedAt: r.CreatedAt.UTC(), DeletedAt: r.DeletedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()})
		}
		return e.writeJSON(out)
	}
	if len(repos) == 0 {
		return e.println("No deleted repositories.")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tDELETED\tEXPIRES\tCREATED")
	for _, r := range repos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, fmtTime(r.DeletedAt), fmtTime(r.ExpiresAt), fmtTime(r.CreatedAt))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (e *env) listDeletedContent(ctx context.Context, repo *registry.Repository) error {
	ms, err := allPages(ctx, repo.DeletedManifests)
	if err != nil {
		return fmt.Errorf("deleted list: %w", err)
	}
	ts, err := allPages(ctx, repo.DeletedTags)
	if err != nil {
		return fmt.Errorf("deleted list: %w", err)
	}
	if e.output == outputJSON {
		out := deletedContentJSON{Repository: repo.Name(), Manifests: []deletedManifestJSON{}, Tags: []deletedTagJSON{}}
		for _, m := range ms {
			tags := m.Tags
			if tags == nil {
				tags = []string{}
			}
			out.Manifests = append(out.Manifests, deletedManifestJSON{
				Digest: m.Digest.String(), MediaType: m.MediaType, ArtifactType: m.ArtifactType, Subject: m.Subject.String(),
				Size: m.Size, Tags: tags, CreatedAt: m.CreatedAt.UTC(), DeletedAt: m.DeletedAt.UTC(), ExpiresAt: m.ExpiresAt.UTC(),
			})
		}
		for _, t := range ts {
			out.Tags = append(out.Tags, deletedTagJSON{Tag: t.Name, Digest: t.Digest.String(), DeletedAt: t.DeletedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC()})
		}
		return e.writeJSON(out)
	}
	if len(ms) == 0 && len(ts) == 0 {
		return e.println(fmt.Sprintf("Nothing deleted in %s.", repo.Name()))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if len(ms) > 0 {
		fmt.Fprintln(tw, "MANIFEST\tDELETED\tEXPIRES\tTAGS\tMEDIA TYPE\tSIZE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", shortDigest(m.Digest), fmtTime(m.DeletedAt), fmtTime(m.ExpiresAt), tagsOrNone(m.Tags), m.MediaType, m.Size)
		}
	}
	if len(ms) > 0 && len(ts) > 0 {
		fmt.Fprintln(tw)
	}
	if len(ts) > 0 {
		fmt.Fprintln(tw, "TAG\tDELETED\tEXPIRES\tMANIFEST")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, fmtTime(t.DeletedAt), fmtTime(t.ExpiresAt), shortDigest(t.Digest))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// tagsOrNone joins tags with commas, "-" for none.
func tagsOrNone(tags []string) string {
	if len(tags) == 0 {
		return "-"
	}
	return strings.Join(tags, ",")
}

func (e *env) println(s string) error {
	if _, err := fmt.Fprintln(e.stdout, s); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// restoreJSON is what restore prints with --output json.
type restoreJSON struct {
	Repository         string            `json:"repository"`
	Digest             string            `json:"digest"`
	ManifestRestored   bool              `json:"manifestRestored"`
	RepositoryRestored bool              `json:"repositoryRestored"`
	Tags               []string          `json:"tags"`
	OverwrittenTags    []deletedTagMoved `json:"overwrittenTags"`
	DeletedManifests   []string          `json:"deletedManifests"`
}

// deletedTagMoved is a tag --force moved, with the digest it left.
type deletedTagMoved struct {
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
}

// runRestore is "regadm restore repo:tag | repo@digest [--force]": a
// manifest by digest with the tags it carried, or the manifest the most
// recently deleted tag pointed at, with that tag.
func runRestore(ctx context.Context, e *env, args []string) error {
	fs := e.flags("restore")
	force := fs.Bool("force", false, "overwrite a tag that now points at another manifest (that tag is kept as deleted; a manifest it leaves untagged is soft-deleted)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("restore: want one repo:tag or repo@digest, got %d arguments", len(pos))
	}
	r, err := parseRef(pos[0])
	if err != nil {
		return err
	}
	if r.tag == "" && r.digest == "" {
		return usagef("restore: %q: name a tag (repo:tag) or a manifest (repo@digest); a repository comes back with any artifact restored in it", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		repo, err := reg.Repository(ctx, r.repo)
		if err != nil {
			return fmt.Errorf("restore %s: %w", r, err)
		}
		res, err := repo.Restore(ctx, registry.RestoreOptions{Digest: r.digest, Tag: r.tag, Force: *force})
		if err != nil {
			return fmt.Errorf("restore %s: %w", r, err)
		}
		return e.printRestoration(r.repo, res)
	})
}

// printRestoration writes what a restore did.
func (e *env) printRestoration(repo string, res registry.Restoration) error {
	if e.output == outputJSON {
		out := restoreJSON{
			Repository: repo, Digest: res.Digest.String(), ManifestRestored: res.Manifest, RepositoryRestored: res.Repository,
			Tags: res.Tags, OverwrittenTags: []deletedTagMoved{}, DeletedManifests: []string{},
		}
		if out.Tags == nil {
			out.Tags = []string{}
		}
		for _, o := range res.Overwritten {
			out.OverwrittenTags = append(out.OverwrittenTags, deletedTagMoved{Tag: o.Name, Digest: o.Digest.String()})
		}
		for _, d := range res.Deleted {
			out.DeletedManifests = append(out.DeletedManifests, d.String())
		}
		return e.writeJSON(out)
	}
	var b strings.Builder
	what := "Re-tagged"
	if res.Manifest {
		what = "Restored"
	}
	fmt.Fprintf(&b, "%s %s@%s", what, repo, res.Digest)
	if len(res.Tags) > 0 {
		fmt.Fprintf(&b, " with %s %s", pluralWord(len(res.Tags), "tag"), strings.Join(res.Tags, ", "))
	}
	b.WriteString(".")
	if res.Repository {
		fmt.Fprintf(&b, "\nThe repository %s came back with it.", repo)
	}
	for _, o := range res.Overwritten {
		fmt.Fprintf(&b, "\nMoved tag %s from %s (kept as a deleted tag).", o.Name, shortDigest(o.Digest))
	}
	for _, d := range res.Deleted {
		fmt.Fprintf(&b, "\nSoft-deleted %s, left without tags.", shortDigest(d))
	}
	return e.println(b.String())
}

// pluralWord is noun, in the plural unless n is 1.
func pluralWord(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
