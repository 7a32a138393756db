package policy

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// t0 is the evaluation time of the tests.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// daysAgo returns t0 minus n days.
func daysAgo(n float64) time.Time { return t0.Add(-time.Duration(n * float64(24*time.Hour))) }

// dg names a manifest of the tests.
func dg(name string) digest.Digest { return digest.FromString(name) }

var locked = tag.Attributes{DeleteEnabled: true, WriteEnabled: false, ReadEnabled: true, ListEnabled: true}

// snap builds a snapshot of repository repo from manifests and tags.
type snap struct{ s Snapshot }

func newSnap(repo string) *snap {
	return &snap{s: Snapshot{Repository: repo, Attributes: tag.DefaultAttributes()}}
}

// man adds a manifest updated days ago; opts change it.
func (b *snap) man(name string, days float64, opts ...func(*Manifest)) *snap {
	m := Manifest{Digest: dg(name), CreatedAt: daysAgo(days), UpdatedAt: daysAgo(days), Attributes: tag.DefaultAttributes()}
	for _, o := range opts {
		o(&m)
	}
	b.s.Manifests = append(b.s.Manifests, m)
	return b
}

// tag adds tag name → manifest, updated days ago.
func (b *snap) tag(name, man string, days float64, opts ...func(*Tag)) *snap {
	t := Tag{Name: name, Digest: dg(man), CreatedAt: daysAgo(days), UpdatedAt: daysAgo(days), Attributes: tag.DefaultAttributes()}
	for _, o := range opts {
		o(&t)
	}
	b.s.Tags = append(b.s.Tags, t)
	return b
}

func lockedM(m *Manifest)              { m.Attributes = locked }
func lockedT(t *Tag)                   { t.Attributes = locked }
func subject(s string) func(*Manifest) { return func(m *Manifest) { m.Subject = dg(s) } }
func untaggedDays(n float64) func(*Manifest) {
	return func(m *Manifest) { m.UntaggedSince = daysAgo(n) }
}
func children(cs ...string) func(*Manifest) {
	return func(m *Manifest) {
		for _, c := range cs {
			m.Children = append(m.Children, dg(c))
		}
	}
}
func pulledT(days float64) func(*Tag)      { return func(t *Tag) { t.LastPulled = daysAgo(days) } }
func pulledM(days float64) func(*Manifest) { return func(m *Manifest) { m.LastPulled = daysAgo(days) } }

// decisions returns the plan's verdicts as "tag:NAME" or "man:NAME" →
// reason code, deletions prefixed with "-".
func decisions(t *testing.T, p *Plan, names ...string) map[string]string {
	t.Helper()
	byDigest := map[digest.Digest]string{}
	for _, n := range names {
		byDigest[dg(n)] = n
	}
	out := map[string]string{}
	for _, d := range p.Decisions {
		k := "man:" + byDigest[d.Digest]
		if d.Kind == KindTag {
			k = "tag:" + d.Tag
		}
		v := string(d.Reason.Code)
		if d.Delete {
			v = "-" + v
		}
		if _, dup := out[k]; dup {
			t.Fatalf("%s decided twice", k)
		}
		out[k] = v
	}
	return out
}

func mustCompile(t testing.TB, p Policy) *Evaluator {
	t.Helper()
	e, err := Compile(p, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func fmtDecisions(p *Plan) string {
	s := ""
	for _, d := range p.Decisions {
		s += fmt.Sprintf("  %s %s %s delete=%v stage=%d %s\n", d.Kind, d.Tag, d.Digest.Encoded()[:8], d.Delete, d.Stage, d.Reason)
	}
	return s
}

func isInvalid(err error) bool { return errors.Is(err, ErrInvalid) }
