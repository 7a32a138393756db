package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

// sampleResult is a hand-built purge result: two repositories, tags and
// manifests deleted, a skip, and items kept for several reasons.
func sampleResult(dryRun bool) *registry.PurgeResult {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cut := at.Add(-30 * 24 * time.Hour)
	old := cut.Add(-48 * time.Hour)
	d1 := digest.FromString("one")
	d2 := digest.FromString("two")
	d3 := digest.FromString("three")
	sig := digest.FromString("signature")
	del := func(d policy.Decision) policy.Decision { d.Delete = true; return d }
	app := &policy.Plan{Repository: "team/app", Time: at, Untagged: 1, Decisions: []policy.Decision{
		del(policy.Decision{Kind: policy.KindTag, Tag: "v1", Digest: d1, Reason: policy.Reason{Code: policy.ReasonFilter, Rule: "team/app:^v", Time: old, Cutoff: cut}}),
		del(policy.Decision{Kind: policy.KindTag, Tag: "v0", Digest: d3, Unlock: true, Reason: policy.Reason{Code: policy.ReasonFilter, Rule: "team/app:^v", Time: old, Cutoff: cut}}),
		del(policy.Decision{Kind: policy.KindManifest, Digest: d1, Stage: 1, Reason: policy.Reason{Code: policy.ReasonUntagged, Time: old, Cutoff: cut}}),
		del(policy.Decision{Kind: policy.KindManifest, Digest: sig, Stage: 1, Reason: policy.Reason{Code: policy.ReasonWithSubject, Ref: d1}}),
		{Kind: policy.KindTag, Tag: "v2", Digest: d2, Stage: -1, Reason: policy.Reason{Code: policy.ReasonNewer, Rule: "team/app:^v", Time: at, Cutoff: cut}},
		{Kind: policy.KindTag, Tag: "latest", Digest: d2, Stage: -1, Reason: policy.Reason{Code: policy.ReasonNotSelected}},
		{Kind: policy.KindManifest, Digest: d2, Stage: -1, Reason: policy.Reason{Code: policy.ReasonTagged}},
	}}
	web := &policy.Plan{Repository: "web", Time: at, Decisions: []policy.Decision{
		del(policy.Decision{Kind: policy.KindTag, Tag: "old", Digest: d3, Reason: policy.Reason{Code: policy.ReasonFilter, Rule: "web:.*", Time: old, Cutoff: cut}}),
		{Kind: policy.KindTag, Tag: "pinned", Digest: d3, Stage: -1, Reason: policy.Reason{Code: policy.ReasonKeepRule, Rule: "keep[0]"}},
	}}
	item := func(repo string, d policy.Decision, e string) registry.PurgeItem {
		return registry.PurgeItem{Repository: repo, Decision: d, Error: e}
	}
	return &registry.PurgeResult{
		DryRun: dryRun,
		Time:   at,
		Plans:  []*policy.Plan{app, web},
		Deleted: []registry.PurgeItem{
			item("team/app", app.Decisions[0], ""),
			item("team/app", app.Decisions[1], ""),
			item("team/app", app.Decisions[2], ""),
			item("team/app", app.Decisions[3], ""),
		},
		Skipped:  []registry.PurgeItem{item("web", web.Decisions[0], "the tag moved since the snapshot")},
		Untagged: 1,
	}
}

// fields collapses each line's runs of spaces, so tests do not depend on
// the table's column widths.
func fields(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

func TestWriteResult(t *testing.T) {
	sd := func(s string) string { return shortDigest(digest.FromString(s)) }
	tests := []struct {
		name    string
		dryRun  bool
		verbose bool
		want    []string
	}{
		{"deleted", false, false, []string{
			"ACTION REPOSITORY KIND ITEM WHY",
			"deleted team/app tag v1 -> " + sd("one") + " matched filter team/app:^v, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"deleted (unlocked) team/app tag v0 -> " + sd("three") + " matched filter team/app:^v, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"deleted team/app manifest " + sd("one") + " no tags left, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"deleted team/app manifest " + sd("signature") + " referrer of deleted " + sd("one"),
			"skipped web tag old -> " + sd("three") + " the tag moved since the snapshot (planned: matched filter web:.*, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z)",
			"Deleted 2 tags and 2 manifests in 2 repositories; skipped 1 planned deletion; 1 manifest lost its last tag.",
		}},
		{"dry run verbose", true, true, []string{
			"Dry run at 2026-12-01 10:00:00Z: nothing was deleted.",
			"ACTION REPOSITORY KIND ITEM WHY",
			"would delete team/app tag v1 -> " + sd("one") + " matched filter team/app:^v, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"would delete (unlocked) team/app tag v0 -> " + sd("three") + " matched filter team/app:^v, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"would delete team/app manifest " + sd("one") + " no tags left, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z",
			"would delete team/app manifest " + sd("signature") + " referrer of deleted " + sd("one"),
			"skipped web tag old -> " + sd("three") + " the tag moved since the snapshot (planned: matched filter web:.*, updated 2026-10-30 10:00:00Z before cutoff 2026-11-01 10:00:00Z)",
			"kept team/app tag v2 -> " + sd("two") + " newer than the cutoff, updated 2026-12-01 10:00:00Z after cutoff 2026-11-01 10:00:00Z",
			"kept team/app tag latest -> " + sd("two") + " no rule selects it",
			"kept team/app manifest " + sd("two") + " still tagged",
			"kept web tag pinned -> " + sd("three") + " protected by keep rule keep[0]",
			"Would delete 2 tags and 2 manifests in 2 repositories; skipped 1 planned deletion; 1 manifest lost its last tag.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeResult(&b, sampleResult(tt.dryRun), tt.verbose); err != nil {
				t.Fatal(err)
			}
			got := fields(b.String())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWriteResultEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := writeResult(&b, &registry.PurgeResult{}, true); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Deleted 0 tags and 0 manifests in 0 repositories.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPrintResultJSON: --output json is the whole PurgeResult, and empty
// lists are [] rather than null.
func TestPrintResultJSON(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, output: outputJSON}
	want := sampleResult(true)
	if err := e.printResult(want, false); err != nil {
		t.Fatal(err)
	}
	var got registry.PurgeResult
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if !got.DryRun || !got.Time.Equal(want.Time) || len(got.Plans) != 2 || len(got.Deleted) != 4 || len(got.Skipped) != 1 || got.Untagged != 1 {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if got.Deleted[1].Tag != "v0" || !got.Deleted[1].Unlock || got.Deleted[1].Repository != "team/app" || got.Skipped[0].Error == "" {
		t.Errorf("items: %+v / %+v", got.Deleted[1], got.Skipped[0])
	}
	if got.Plans[0].Decisions[4].Reason.Code != policy.ReasonNewer {
		t.Errorf("plan decision: %+v", got.Plans[0].Decisions[4])
	}

	out.Reset()
	if err := e.printResult(&registry.PurgeResult{}, false); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"plans": []`, `"deleted": []`, `"skipped": []`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("empty result lacks %s:\n%s", key, out.String())
		}
	}
}

// TestDescribe: every reason code has words, and an unknown one falls back
// to Reason.String.
func TestDescribe(t *testing.T) {
	ref := digest.FromString("x")
	codes := []policy.ReasonCode{
		policy.ReasonFilter, policy.ReasonUntagged, policy.ReasonRetention, policy.ReasonWithSubject,
		policy.ReasonNotSelected, policy.ReasonNewer, policy.ReasonKeepNewest, policy.ReasonKeepRule,
		policy.ReasonLocked, policy.ReasonRepositoryLocked, policy.ReasonTagged, policy.ReasonChildOfKept,
		policy.ReasonReferrer, policy.ReasonReferrerKept, policy.ReasonBeforePolicy, policy.ReasonNoTime,
		policy.ReasonMatchError,
	}
	seen := map[string]policy.ReasonCode{}
	for _, c := range codes {
		s := describe(policy.Reason{Code: c, Ref: ref})
		if s == "" || s == string(c) {
			t.Errorf("%s: no words: %q", c, s)
		}
		if prev, ok := seen[s]; ok {
			t.Errorf("%s and %s read the same: %q", prev, c, s)
		}
		seen[s] = c
	}
	if got := describe(policy.Reason{Code: policy.ReasonMatchError, Rule: "app:.*", Detail: "match timeout"}); got != "pattern match failed app:.*: match timeout" {
		t.Errorf("match error: %q", got)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := describe(policy.Reason{Code: policy.ReasonRetention, Time: at, Cutoff: at.Add(24 * time.Hour)}); got != "untagged retention, untagged since 2026-01-02 03:04:05Z, due 2026-01-03 03:04:05Z" {
		t.Errorf("retention: %q", got)
	}
	unknown := policy.Reason{Code: "future-code", Rule: "r"}
	if got := describe(unknown); got != unknown.String() {
		t.Errorf("unknown code: %q, want %q", got, unknown.String())
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 repositories", 1: "1 repository", 2: "2 repositories"} {
		if got := plural(n+7, "day"); got != fmt.Sprintf("%d days", n+7) {
			t.Errorf("plural(%d, day) = %q", n+7, got)
		}
		if got := plural(n, "repository"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
	if got := plural(3, "tag"); got != "3 tags" {
		t.Errorf("got %q", got)
	}
}

// TestProgress: nothing during the first half second, then at most one
// line per tenth of a second, each drawn over the last; clear blanks it.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := newProgress(&b, clock)
	p.update(registry.PurgeProgress{Repository: "a", RepositoriesDone: 1, Repositories: 3, Deleted: 5})
	if b.Len() != 0 {
		t.Fatalf("line drawn before the delay: %q", b.String())
	}
	now = now.Add(600 * time.Millisecond)
	p.update(registry.PurgeProgress{Repository: "team/app", RepositoriesDone: 1, Repositories: 3, Deleted: 10, Skipped: 1})
	want := "\r1/3 repositories, 10 deletions, 1 skipped (team/app)"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	now = now.Add(50 * time.Millisecond)
	p.update(registry.PurgeProgress{RepositoriesDone: 2, Repositories: 3})
	if b.String() != want {
		t.Fatalf("redrawn too soon: %q", b.String())
	}
	b.Reset()
	now = now.Add(100 * time.Millisecond)
	p.update(registry.PurgeProgress{Repository: "b", RepositoriesDone: 2, Repositories: 3, Deleted: 1})
	line := "2/3 repositories, 1 deletion, 0 skipped (b)"
	pad := strings.Repeat(" ", len(want)-1-len(line))
	if b.String() != "\r"+line+pad {
		t.Fatalf("got %q, want the shorter line padded over the longer", b.String())
	}
	b.Reset()
	p.clear()
	if b.String() != "\r"+strings.Repeat(" ", len(line))+"\r" {
		t.Fatalf("clear wrote %q", b.String())
	}
	b.Reset()
	p.clear()
	if b.Len() != 0 {
		t.Fatalf("second clear wrote %q", b.String())
	}
}
