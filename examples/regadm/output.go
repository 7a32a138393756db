package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// timeLayout is how text output shows times (always UTC).
const timeLayout = "2006-01-02 15:04:05Z"

// writeResult writes a purge or sweep result for people: a table of what
// went (or would go, on a dry run) and why, the planned deletions that were
// skipped and why, with verbose what stays and why, then a summary line.
func writeResult(w io.Writer, res *registry.PurgeResult, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if res.DryRun {
		fmt.Fprintf(tw, "Dry run at %s: nothing was deleted.\n", fmtTime(res.Time))
	}
	rows := len(res.Deleted) + len(res.Skipped)
	if verbose {
		for _, p := range res.Plans {
			rows += len(p.Decisions) - len(p.Deletions())
		}
	}
	if rows > 0 {
		fmt.Fprintln(tw, "ACTION\tREPOSITORY\tKIND\tITEM\tWHY")
	}
	deleted := "deleted"
	if res.DryRun {
		deleted = "would delete"
	}
	for _, it := range res.Deleted {
		action := deleted
		if it.Unlock {
			action += " (unlocked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", action, it.Repository, it.Kind, itemName(it.Decision), describe(it.Reason))
	}
	for _, it := range res.Skipped {
		why := it.Error
		if why == "" {
			why = "skipped"
		}
		fmt.Fprintf(tw, "skipped\t%s\t%s\t%s\t%s (planned: %s)\n", it.Repository, it.Kind, itemName(it.Decision), why, describe(it.Reason))
	}
	if verbose {
		for _, p := range res.Plans {
			for _, d := range p.Decisions {
				if !d.Delete {
					fmt.Fprintf(tw, "kept\t%s\t%s\t%s\t%s\n", p.Repository, d.Kind, itemName(d), describe(d.Reason))
				}
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if _, err := fmt.Fprintln(w, summary(res)); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// summary is the last line of a result: counts of what went and stayed.
func summary(res *registry.PurgeResult) string {
	var tags, manifests int
	for _, it := range res.Deleted {
		if it.Kind == policy.KindTag {
			tags++
		} else {
			manifests++
		}
	}
	verb := "Deleted"
	if res.DryRun {
		verb = "Would delete"
	}
	s := fmt.Sprintf("%s %s and %s in %s", verb, plural(tags, "tag"), plural(manifests, "manifest"), plural(len(res.Plans), "repository"))
	if len(res.Skipped) > 0 {
		s += fmt.Sprintf("; skipped %s", plural(len(res.Skipped), "planned deletion"))
	}
	if res.Untagged > 0 {
		lost := "lost their last tag"
		if res.Untagged == 1 {
			lost = "lost its last tag"
		}
		s += fmt.Sprintf("; %s %s", plural(res.Untagged, "manifest"), lost)
	}
	return s + "."
}

// plural writes n with noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.ContainsAny(noun[len(noun)-2:len(noun)-1], "aeiou") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// itemName names a decision's item in a table: the tag, or the manifest's
// short digest.
func itemName(d policy.Decision) string {
	if d.Kind == policy.KindTag {
		return d.Tag + " -> " + shortDigest(d.Digest)
	}
	return shortDigest(d.Digest)
}

// shortDigest abbreviates a digest to its algorithm and 12 hex digits, as
// docker does; --output json has the whole digest.
func shortDigest(d digest.Digest) string {
	s := string(d)
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	return s
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// describe explains a reason in words; codes it does not know fall back
// to policy.Reason.String.
func describe(r policy.Reason) string {
	var s string
	rule := ""
	if r.Rule != "" {
		rule = " " + r.Rule
	}
	switch r.Code {
	case policy.ReasonFilter:
		s = "matched filter" + rule + cutoff(r, "updated", "before")
	case policy.ReasonUntagged:
		s = "no tags left" + cutoff(r, "updated", "before")
	case policy.ReasonRetention:
		s = "untagged retention" + cutoff(r, "untagged since", "due")
	case policy.ReasonWithSubject:
		s = "referrer of deleted " + shortDigest(r.Ref)
	case policy.ReasonNotSelected:
		s = "no rule selects it"
	case policy.ReasonNewer:
		s = "newer than the cutoff" + cutoff(r, "updated", "after")
	case policy.ReasonKeepNewest:
		s = "among the newest kept (--keep)"
	case policy.ReasonKeepRule:
		s = "protected by keep rule" + rule
	case policy.ReasonLocked:
		s = "locked (--include-locked deletes it)"
	case policy.ReasonRepositoryLocked:
		s = "repository is write-locked"
	case policy.ReasonTagged:
		s = "still tagged"
	case policy.ReasonChildOfKept:
		s = "child of kept index " + shortDigest(r.Ref)
	case policy.ReasonReferrer:
		s = "referrer of kept subject " + shortDigest(r.Ref)
	case policy.ReasonReferrerKept:
		s = "its referrer " + shortDigest(r.Ref) + " must stay"
	case policy.ReasonBeforePolicy:
		s = "untagged before retention was enabled"
	case policy.ReasonNoTime:
		s = "no time to judge its age by"
	case policy.ReasonMatchError:
		s = "pattern match failed" + rule
	default:
		return r.String()
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// cutoff words a reason's time against its cutoff: ", updated T before
// cutoff C".
func cutoff(r policy.Reason, what, rel string) string {
	if r.Time.IsZero() {
		return ""
	}
	s := ", " + what + " " + fmtTime(r.Time)
	if !r.Cutoff.IsZero() {
		if rel == "due" {
			s += ", due " + fmtTime(r.Cutoff)
		} else {
			s += " " + rel + " cutoff " + fmtTime(r.Cutoff)
		}
	}
	return s
}

// progress draws one line on a terminal, rewritten in place, while a long
// purge runs. Runs shorter than delay never show it.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	delay time.Duration // before the first line
	every time.Duration // between lines
	last  time.Time
	width int // of the line on screen, to blank it
}

// newProgress returns a progress line on w, shown after half a second and
// redrawn at most ten times a second.
func newProgress(w io.Writer, now func() time.Time) *progress {
	return &progress{w: w, now: now, start: now(), delay: 500 * time.Millisecond, every: 100 * time.Millisecond}
}

// update is a registry.PurgeOptions.Progress callback.
func (p *progress) update(pp registry.PurgeProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	if t.Sub(p.start) < p.delay || (!p.last.IsZero() && t.Sub(p.last) < p.every) {
		return
	}
	p.last = t
	line := fmt.Sprintf("%d/%d repositories, %s, %d skipped", pp.RepositoriesDone, pp.Repositories, plural(pp.Deleted, "deletion"), pp.Skipped)
	if pp.Repository != "" {
		line += " (" + pp.Repository + ")"
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// clear blanks the line, if one was drawn, before the result is written.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}
