package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/tag"
)

// TestLockUnlock locks and unlocks a repository, a tag and a manifest end
// to end and checks the attributes stored.
func TestLockUnlock(t *testing.T) {
	data, imgs := newData(t, push{repo: "team/app", tag: "v1"}, push{repo: "team/app", tag: "v2"})
	v2 := imgs.find(t, "team/app", "v2")
	refs := []ref{
		{repo: "team/app"},
		{repo: "team/app", tag: "v1"},
		{repo: "team/app", digest: v2.digest},
	}
	all := tag.DefaultAttributes()
	writeLocked, deleteLocked, bothLocked := all, all, all
	writeLocked.WriteEnabled = false
	deleteLocked.DeleteEnabled = false
	bothLocked.WriteEnabled, bothLocked.DeleteEnabled = false, false
	steps := []struct {
		name string
		args []string
		want tag.Attributes
		verb string // in the text output
	}{
		{"lock", []string{"lock"}, writeLocked, "locked"},
		{"unlock", []string{"unlock"}, all, "unlocked"},
		{"lock --delete", []string{"lock", "--delete"}, bothLocked, "locked"},
		{"unlock both", []string{"unlock"}, all, "unlocked"},
		{"lock --delete-only", []string{"lock", "--delete-only"}, deleteLocked, "locked"},
		// A plain lock leaves deleteEnabled as it is.
		{"lock after --delete-only", []string{"lock"}, bothLocked, "locked"},
		{"unlock again", []string{"unlock"}, all, "unlocked"},
		// --delete-only leaves writeEnabled alone: a write lock stays.
		{"lock", []string{"lock"}, writeLocked, "locked"},
		{"--delete-only after lock", []string{"lock", "--delete-only"}, bothLocked, "locked"},
		{"unlock last", []string{"unlock"}, all, "unlocked"},
	}
	for _, r := range refs {
		for _, st := range steps {
			args := append([]string{"-data", data}, st.args...)
			args = append(args, r.String())
			code, stdout, stderr := regadm(t, args...)
			if code != exitOK {
				t.Fatalf("%s %s: exit status %d: %s", st.name, r, code, stderr)
			}
			if want := st.verb + " " + string(r.kind()) + " " + r.String() + ": " + fmtAttributes(st.want); strings.TrimSpace(stdout) != want {
				t.Errorf("%s %s: output %q, want %q", st.name, r, stdout, want)
			}
			if got := attributes(t, data, r); got != st.want {
				t.Errorf("%s %s: attributes %+v, want %+v", st.name, r, got, st.want)
			}
		}
	}
}

// TestLockJSON: several references in one run, --output json.
func TestLockJSON(t *testing.T) {
	data, imgs := newData(t, push{repo: "app", tag: "v1"}, push{repo: "web", tag: "v1"})
	d := imgs.find(t, "web", "v1").digest
	code, stdout, stderr := regadm(t, "-data", data, "-output", "json", "lock", "--delete", "app", "web@"+d.String())
	if code != exitOK {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	var got []lockResult
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if len(got) != 2 || got[0].Ref != "app" || got[0].Kind != tag.KindRepository || got[1].Ref != "web@"+d.String() || got[1].Kind != tag.KindManifest {
		t.Fatalf("output %+v", got)
	}
	for _, g := range got {
		if g.Attributes.WriteEnabled || g.Attributes.DeleteEnabled || !g.Attributes.ReadEnabled {
			t.Errorf("%s: attributes %+v", g.Ref, g.Attributes)
		}
	}
}

// TestLockPartialFailure: a reference that does not exist fails (status
// 1, named in the error) and the others still change.
func TestLockPartialFailure(t *testing.T) {
	data, _ := newData(t, push{repo: "app", tag: "v1"})
	code, stdout, stderr := regadm(t, "-data", data, "lock", "app:nope", "app:v1", "ghost")
	if code != exitFailed {
		t.Fatalf("exit status %d, want 1: %s", code, stderr)
	}
	for _, want := range []string{"lock app:nope:", "lock ghost:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "locked tag app:v1") {
		t.Errorf("stdout lacks the change that worked:\n%s", stdout)
	}
	if attributes(t, data, ref{repo: "app", tag: "v1"}).WriteEnabled {
		t.Error("app:v1 was not locked")
	}
}

// TestParseRef covers the reference grammar.
func TestParseRef(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in   string
		want ref
		bad  bool
	}{
		{in: "app", want: ref{repo: "app"}},
		{in: "team/app", want: ref{repo: "team/app"}},
		{in: "team/app:v1.2", want: ref{repo: "team/app", tag: "v1.2"}},
		{in: "team/app@" + d, want: ref{repo: "team/app", digest: digest.Digest(d)}},
		{in: "", bad: true},
		{in: "App", bad: true},
		{in: "app:", bad: true},
		{in: "app@", bad: true},
		{in: "app@sha256:abc", bad: true},
		{in: "app:v1@" + d, bad: true},
		{in: "host:5000/app", bad: true},
		{in: ":v1", bad: true},
	}
	for _, tt := range tests {
		got, err := parseRef(tt.in)
		if tt.bad {
			if err == nil || !isUsage(err) {
				t.Errorf("%q: err %v, want a usage error", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%q: String %q", tt.in, got.String())
		}
	}
}
