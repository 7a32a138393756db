package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// runHistory is "regadm history REPO:TAG | REPO": the recorded moves of a
// tag (or of every tag of a repository), newest first.
func runHistory(ctx context.Context, e *env, args []string) error {
	fs := e.flags("history")
	var n int
	fs.IntVar(&n, "n", 0, "show at most `N` moves, the newest (0: every move kept)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("history: want one repo:tag or repo, got %d arguments", len(pos))
	}
	if n < 0 {
		return usagef("--n %d: want 0 or more", n)
	}
	r, err := parseRef(pos[0])
	if err != nil {
		return err
	}
	if r.digest != "" {
		return usagef("history: %q: name a tag (repo:tag) or a repository, not a digest", pos[0])
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		repo, err := reg.Repository(ctx, r.repo)
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		var moves []registry.TagMove
		opts := registry.HistoryOptions{N: 500}
		for {
			if n > 0 {
				opts.N = min(500, n-len(moves))
			}
			var page registry.HistoryPage
			if r.tag != "" {
				page, err = repo.Tags().History(ctx, r.tag, opts)
			} else {
				page, err = repo.Tags().HistoryAll(ctx, opts)
			}
			if err != nil {
				return fmt.Errorf("history %s: %w", r, err)
			}
			moves = append(moves, page.Moves...)
			if page.Next == "" || (n > 0 && len(moves) >= n) {
				break
			}
			opts.Last = page.Next
		}
		return e.printHistory(r, moves)
	})
}

// printHistory writes moves as a table, or as a JSON array of
// registry.TagMove.
func (e *env) printHistory(r ref, moves []registry.TagMove) error {
	if e.output == outputJSON {
		if moves == nil {
			moves = []registry.TagMove{}
		}
		return e.writeJSON(moves)
	}
	if len(moves) == 0 {
		_, err := fmt.Fprintf(e.stdout, "No recorded moves of %s.\n", r)
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTAG\tKIND\tFROM\tTO")
	for _, m := range moves {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Time.UTC().Format(time.RFC3339Nano), m.Tag, m.Kind, orNone(m.Old), orNone(m.New))
	}
	return tw.Flush()
}

// orNone is a digest for a table, "-" for none.
func orNone(d digest.Digest) string {
	if d == "" {
		return "-"
	}
	return d.String()
}

// revertResult is the outcome of a revert, for --output json.
type revertResult struct {
	Ref    string        `json:"ref"`
	At     time.Time     `json:"at"`
	Digest digest.Digest `json:"digest"`
}

// runRevert is "regadm revert REPO:TAG --to TIME": point the tag back at
// the manifest it pointed to at TIME.
func runRevert(ctx context.Context, e *env, args []string) error {
	fs := e.flags("revert")
	var to string
	fs.StringVar(&to, "to", "", "the `TIME` to go back to: RFC 3339 (2026-03-01T12:00:00Z) or an age as --ago takes it in purge (1d, 2h30m, 1d6h)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("revert: want one repo:tag, got %d arguments", len(pos))
	}
	r, err := parseRef(pos[0])
	if err != nil {
		return err
	}
	if r.tag == "" || r.digest != "" {
		return usagef("revert: %q: name a tag, repo:tag", pos[0])
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	at, err := parseWhen(to, now())
	if err != nil {
		return err
	}
	return e.withRegistry(ctx, func(reg *registry.Registry) error {
		repo, err := reg.Repository(ctx, r.repo)
		if err != nil {
			return fmt.Errorf("revert: %w", err)
		}
		d, err := repo.Tags().Revert(ctx, r.tag, at)
		if err != nil {
			var gone *registry.ManifestGoneError
			if errors.As(err, &gone) {
				return fmt.Errorf("revert %s: at %s it pointed to %s, which is no longer in the repository: %w", r, at.Format(time.RFC3339), gone.Digest, err)
			}
			return fmt.Errorf("revert %s: %w", r, err)
		}
		if e.output == outputJSON {
			return e.writeJSON(revertResult{Ref: r.String(), At: at, Digest: d})
		}
		_, err = fmt.Fprintf(e.stdout, "%s points to %s, as it did at %s.\n", r, d, at.Format(time.RFC3339))
		return err
	})
}

// parseWhen reads --to: an RFC 3339 time, or an age before now in
// policy.ParseAgo's syntax.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("revert: --to is required (an RFC 3339 time or an age such as 1d or 2h)")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	age, err := policy.ParseAgo(s)
	if err != nil {
		return time.Time{}, usagef("--to %q: neither an RFC 3339 time nor an age: %w", s, err)
	}
	return now.Add(-age).UTC(), nil
}
