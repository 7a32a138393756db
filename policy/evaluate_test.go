package policy

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	purge := func(p Purge) Policy { return Policy{Purge: &p} }
	tests := []struct {
		name     string
		policy   Policy
		snap     *snap
		want     map[string]string
		untagged int
	}{
		{
			name:   "filter and age",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "7d"}),
			snap:   newSnap("app").man("a", 20).man("b", 3).tag("v1", "a", 10).tag("v2", "b", 3).tag("old-b", "b", 30),
			want: map[string]string{
				"tag:v1": "-filter", "tag:v2": "newer-than-cutoff", "tag:old-b": "-filter",
				"man:a": "not-selected", "man:b": "tagged",
			},
			untagged: 1,
		},
		{
			name:   "repository pattern is anchored",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "0d"}),
			snap:   newSnap("app2").man("a", 20).tag("v1", "a", 10),
			want:   map[string]string{"tag:v1": "not-selected", "man:a": "tagged"},
		},
		{
			name:   "tag pattern matches anywhere, filters combine with OR",
			policy: purge(Purge{Filters: []string{"app:^v1", "app:rc"}, Ago: "1d"}),
			snap:   newSnap("app").man("a", 20).tag("v1.0", "a", 10).tag("v2-rc1", "a", 10).tag("v2", "a", 10),
			want:   map[string]string{"tag:v1.0": "-filter", "tag:v2-rc1": "-filter", "tag:v2": "not-selected", "man:a": "tagged"},
		},
		{
			name:   "lookaround filter from acr purge",
			policy: purge(Purge{Filters: []string{"app:^(?!latest$).*"}, Ago: "1d"}),
			snap:   newSnap("app").man("a", 20).tag("latest", "a", 10).tag("v1", "a", 10),
			want:   map[string]string{"tag:latest": "not-selected", "tag:v1": "-filter", "man:a": "tagged"},
		},
		{
			name:   "keep spares the newest eligible",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Keep: 2}),
			snap: newSnap("app").man("a", 20).
				tag("t1", "a", 2).tag("t2", "a", 3).tag("t3", "a", 4).tag("t4", "a", 5).tag("new", "a", 0.5).tag("lck", "a", 1.5, lockedT),
			want: map[string]string{
				"tag:new": "newer-than-cutoff", "tag:lck": "locked",
				"tag:t1": "keep-newest", "tag:t2": "keep-newest", "tag:t3": "-filter", "tag:t4": "-filter",
				"man:a": "tagged",
			},
		},
		{
			name:     "include-locked unlocks",
			policy:   purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", IncludeLocked: true, Untagged: true}),
			snap:     newSnap("app").man("a", 20, lockedM).tag("v1", "a", 10, lockedT),
			want:     map[string]string{"tag:v1": "-filter", "man:a": "-untagged"},
			untagged: 1,
		},
		{
			name:     "locked manifest stays in the untagged pass",
			policy:   purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}),
			snap:     newSnap("app").man("a", 20, lockedM).tag("v1", "a", 10),
			want:     map[string]string{"tag:v1": "-filter", "man:a": "locked"},
			untagged: 1,
		},
		{
			name:   "write-locked repository keeps everything",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", IncludeLocked: true, Untagged: true}),
			snap: func() *snap {
				b := newSnap("app").man("a", 20).man("b", 20).tag("v1", "a", 10)
				b.s.Attributes.WriteEnabled = false
				return b
			}(),
			want: map[string]string{"tag:v1": "repository-locked", "man:a": "tagged", "man:b": "repository-locked"},
		},
		{
			name:   "untagged pass: age applies to manifests",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "7d", Untagged: true}),
			snap:   newSnap("app").man("old", 20).man("new", 2).man("tagged", 20).tag("keep", "tagged", 1),
			want:   map[string]string{"man:old": "-untagged", "man:new": "newer-than-cutoff", "man:tagged": "tagged", "tag:keep": "newer-than-cutoff"},
		},
		{
			name:   "children of a kept index stay, of a deleted index go after it",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}),
			snap: newSnap("app").
				man("kept-idx", 20, children("c1", "c2")).tag("stay", "kept-idx", 0.1).
				man("c1", 20).man("c2", 20).
				man("old-idx", 20, children("c3", "inner-idx")).man("c3", 20).
				man("inner-idx", 20, children("c4")).man("c4", 20),
			want: map[string]string{
				"tag:stay": "newer-than-cutoff", "man:kept-idx": "tagged",
				"man:c1": "child-of-kept-index", "man:c2": "child-of-kept-index",
				"man:old-idx": "-untagged", "man:c3": "-untagged", "man:inner-idx": "-untagged", "man:c4": "-untagged",
			},
		},
		{
			name:   "a child shared with a kept index stays",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}),
			snap: newSnap("app").
				man("idx1", 20, children("shared")).man("idx2", 20, children("shared"), lockedM).man("shared", 20),
			want: map[string]string{"man:idx1": "-untagged", "man:idx2": "locked", "man:shared": "child-of-kept-index"},
		},
		{
			name:   "referrers go with their subject, never alone",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}),
			snap: newSnap("app").
				man("img", 20).man("sig", 20, subject("img")).man("sbom", 20, subject("img")).man("sbom-sig", 20, subject("sbom")).
				man("kept", 20).tag("v1", "kept", 0.5).man("kept-sig", 20, subject("kept")).
				man("orphan-sig", 20, subject("missing")),
			want: map[string]string{
				"man:img": "-untagged", "man:sig": "-with-subject", "man:sbom": "-with-subject", "man:sbom-sig": "-with-subject",
				"man:kept": "tagged", "tag:v1": "newer-than-cutoff", "man:kept-sig": "referrer",
				"man:orphan-sig": "referrer",
			},
		},
		{
			name:   "a locked or tagged referrer keeps its subject",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true}),
			snap: newSnap("app").
				man("img", 20).man("sig", 20, subject("img"), lockedM).
				man("img2", 20).man("sig2", 20, subject("img2")).tag("sig-tag", "sig2", 0.1),
			want: map[string]string{
				"man:img": "referrer-kept", "man:sig": "referrer",
				"man:img2": "referrer-kept", "man:sig2": "tagged", "tag:sig-tag": "newer-than-cutoff",
			},
		},
		{
			name:   "untagged-only leaves tags and keeps the newest manifests",
			policy: purge(Purge{UntaggedOnly: true, Ago: "1d", Keep: 1}),
			snap:   newSnap("any").man("m1", 5).man("m2", 10).man("m3", 20).man("t", 30).tag("old", "t", 30),
			want:   map[string]string{"tag:old": "not-selected", "man:t": "tagged", "man:m1": "keep-newest", "man:m2": "-untagged", "man:m3": "-untagged"},
		},
		{
			name:   "untagged-only uses only the filter's repository part",
			policy: purge(Purge{UntaggedOnly: true, Filters: []string{"other:.*"}}),
			snap:   newSnap("app").man("m1", 5),
			want:   map[string]string{"man:m1": "not-selected"},
		},
		{
			name:   "untagged retention",
			policy: Policy{UntaggedRetention: &UntaggedRetention{Days: 7, EnabledAt: daysAgo(15)}},
			snap: newSnap("app").
				man("due", 30, untaggedDays(10)).man("recent", 30, untaggedDays(3)).man("before", 30, untaggedDays(20)).
				man("lock", 30, untaggedDays(10), lockedM).man("never-tagged", 8).
				man("nodelete", 30, untaggedDays(10), func(m *Manifest) { m.Attributes.DeleteEnabled = false }),
			want: map[string]string{
				"man:due": "-untagged-retention", "man:recent": "newer-than-cutoff", "man:before": "untagged-before-policy",
				"man:lock": "locked", "man:never-tagged": "-untagged-retention", "man:nodelete": "locked",
			},
		},
		{
			name:     "retention with zero days takes what the purge just untagged",
			policy:   Policy{Purge: &Purge{Filters: []string{"app:.*"}, Ago: "1d"}, UntaggedRetention: &UntaggedRetention{Days: 0}},
			snap:     newSnap("app").man("a", 20).tag("v1", "a", 10),
			want:     map[string]string{"tag:v1": "-filter", "man:a": "-untagged-retention"},
			untagged: 1,
		},
		{
			name: "keep pattern always wins",
			policy: Policy{
				Purge: &Purge{Filters: []string{".*:.*"}, Ago: "1d"},
				Keep:  []KeepRule{{Tags: "^release-"}, {Repositories: "other", Tags: ".*"}},
			},
			snap: newSnap("app").man("a", 20).tag("release-1", "a", 10).tag("dev-1", "a", 10),
			want: map[string]string{"tag:release-1": "keep-rule", "tag:dev-1": "-filter", "man:a": "tagged"},
		},
		{
			name: "keep the newest pulled and the recently pushed",
			policy: Policy{
				Purge: &Purge{Filters: []string{".*:.*"}, Ago: "1d"},
				Keep:  []KeepRule{{Newest: 1, By: ByPulled}, {Within: "12d", Tags: "^rc"}},
			},
			snap: newSnap("app").man("a", 20).
				tag("p1", "a", 30, pulledT(2)).tag("p2", "a", 30, pulledT(1)).tag("never", "a", 30).
				tag("rc1", "a", 10).tag("rc2", "a", 13),
			want: map[string]string{
				"tag:p2": "keep-rule", "tag:p1": "-filter", "tag:never": "-filter",
				"tag:rc1": "keep-rule", "tag:rc2": "-filter", "man:a": "tagged",
			},
		},
		{
			name: "keep rule on manifests pulled by digest",
			policy: Policy{
				Purge: &Purge{UntaggedOnly: true},
				Keep:  []KeepRule{{Manifests: true, Within: "30d", By: ByPulled}},
			},
			snap: newSnap("app").man("pulled", 100, pulledM(3)).man("cold", 100, pulledM(40)),
			want: map[string]string{"man:pulled": "keep-rule", "man:cold": "-untagged"},
		},
		{
			name:   "a tag moved recently is judged by its own time",
			policy: purge(Purge{Filters: []string{"app:.*"}, Ago: "7d", Untagged: true}),
			snap:   newSnap("app").man("old", 100).tag("latest", "old", 1).tag("v1", "old", 100),
			want:   map[string]string{"tag:latest": "newer-than-cutoff", "tag:v1": "-filter", "man:old": "tagged"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, tt.policy)
			var names []string
			for _, m := range tt.snap.s.Manifests {
				for _, n := range []string{"a", "b", "old", "new", "tagged", "kept-idx", "c1", "c2", "c3", "c4", "old-idx", "inner-idx", "idx1", "idx2", "shared",
					"img", "sig", "sbom", "sbom-sig", "kept", "kept-sig", "orphan-sig", "img2", "sig2", "m1", "m2", "m3", "t",
					"due", "recent", "before", "lock", "never-tagged", "nodelete", "pulled", "cold"} {
					if dg(n) == m.Digest {
						names = append(names, n)
					}
				}
			}
			p := e.Evaluate(&tt.snap.s, t0)
			got := decisions(t, p, names...)
			if !maps.Equal(got, tt.want) {
				t.Fatalf("decisions:\n got  %v\n want %v\nplan:\n%s", got, tt.want, fmtDecisions(p))
			}
			if p.Untagged != tt.untagged {
				t.Fatalf("Untagged = %d, want %d", p.Untagged, tt.untagged)
			}
			checkOrder(t, p, &tt.snap.s)
		})
	}
}

// checkOrder checks the plan's shape: deletions first by stage, tags at
// stage 0, an index before its children, every item once.
func checkOrder(t *testing.T, p *Plan, s *Snapshot) {
	t.Helper()
	if len(p.Decisions) != len(s.Tags)+len(s.Manifests) {
		t.Fatalf("%d decisions for %d items", len(p.Decisions), len(s.Tags)+len(s.Manifests))
	}
	stage := map[string]int{}
	last, kept := 0, false
	for _, d := range p.Decisions {
		switch {
		case !d.Delete:
			kept = true
			if d.Stage != -1 {
				t.Fatalf("kept item with stage %d", d.Stage)
			}
			continue
		case kept:
			t.Fatalf("a deletion after a kept item:\n%s", fmtDecisions(p))
		case d.Stage < last:
			t.Fatalf("stages out of order:\n%s", fmtDecisions(p))
		case d.Kind == KindTag && d.Stage != 0, d.Kind == KindManifest && d.Stage < 1:
			t.Fatalf("%s at stage %d", d.Kind, d.Stage)
		}
		last = d.Stage
		if d.Kind == KindManifest {
			stage[d.Digest.String()] = d.Stage
		}
	}
	for _, m := range s.Manifests {
		ps, ok := stage[m.Digest.String()]
		if !ok {
			continue
		}
		for _, c := range m.Children {
			if cs, ok := stage[c.String()]; ok && cs <= ps {
				t.Fatalf("child %s at stage %d, its index at %d", c, cs, ps)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"no filter", Policy{Purge: &Purge{Ago: "1d"}}, "filters are required"},
		{"no ago", Policy{Purge: &Purge{Filters: []string{"a:b"}}}, "ago is required"},
		{"bad ago", Policy{Purge: &Purge{Filters: []string{"a:b"}, Ago: "-3d"}}, "age"},
		{"bad filter", Policy{Purge: &Purge{Filters: []string{"a"}, Ago: "1d"}}, "want one"},
		{"bad regex", Policy{Purge: &Purge{Filters: []string{"a:(b"}, Ago: "1d"}}, "pattern"},
		{"both untagged", Policy{Purge: &Purge{Untagged: true, UntaggedOnly: true}}, "exclude"},
		{"negative keep", Policy{Purge: &Purge{UntaggedOnly: true, Keep: -1}}, "keep"},
		{"days", Policy{UntaggedRetention: &UntaggedRetention{Days: 366}}, "0 to 365"},
		{"negative days", Policy{UntaggedRetention: &UntaggedRetention{Days: -1}}, "0 to 365"},
		{"keep by", Policy{Keep: []KeepRule{{By: "age"}}}, "keep[0].by"},
		{"keep newest", Policy{Keep: []KeepRule{{Newest: -2}}}, "newest"},
		{"keep within", Policy{Keep: []KeepRule{{Within: "x"}}}, "age"},
		{"keep manifests", Policy{Keep: []KeepRule{{Manifests: true}}}, "needs newest or within"},
		{"keep repo regex", Policy{Keep: []KeepRule{{Repositories: "("}}}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.policy, CompileOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile = %v, want an error containing %q", err, tt.want)
			}
			if !isInvalid(err) {
				t.Fatalf("Compile error %v is not ErrInvalid", err)
			}
		})
	}
}

// TestMatchTimeout: a pattern that backtracks past its timeout deletes
// nothing.
func TestMatchTimeout(t *testing.T) {
	e, err := Compile(Policy{Purge: &Purge{Filters: []string{"app:^(a+)+$"}, Ago: "0d"}}, CompileOptions{MatchTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := newSnap("app").man("a", 20).tag(strings.Repeat("a", 40)+"b", "a", 10).tag("aaa", "a", 10)
	p := e.Evaluate(&s.s, t0)
	got := decisions(t, p, "a")
	want := map[string]string{"tag:" + strings.Repeat("a", 40) + "b": "match-error", "tag:aaa": "-filter", "man:a": "tagged"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v\n%s", got, want, fmtDecisions(p))
	}
}

// TestEvaluateIsPure: the same snapshot and time give the same plan, and
// the snapshot is not modified.
func TestEvaluateIsPure(t *testing.T) {
	e := mustCompile(t, Policy{Purge: &Purge{Filters: []string{"app:.*"}, Ago: "1d", Untagged: true, Keep: 1}})
	b := newSnap("app").man("a", 20, children("c")).man("c", 20).man("s", 20, subject("a")).tag("v1", "a", 5).tag("v2", "a", 6).tag("v3", "c", 7)
	before := b.s.Tags[0]
	p1 := e.Evaluate(&b.s, t0)
	p2 := e.Evaluate(&b.s, t0)
	if fmtDecisions(p1) != fmtDecisions(p2) {
		t.Fatalf("two plans differ:\n%s\n%s", fmtDecisions(p1), fmtDecisions(p2))
	}
	if b.s.Tags[0] != before {
		t.Fatal("the snapshot changed")
	}
}
