package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

func TestRetention(t *testing.T) {
	data, _ := newData(t)
	steps := []struct {
		args    []string
		text    string // the text output
		enabled bool
		days    int
	}{
		{[]string{"retention", "show"}, "Untagged retention: disabled (days: ", false, -1},
		{[]string{"retention", "set", "--enabled=true", "--days", "7"}, "Untagged retention: enabled, 7 days: manifests untagged since ", true, 7},
		{[]string{"retention", "set", "--days=1"}, "Untagged retention: enabled, 1 day: ", true, 1},
		{[]string{"retention", "set", "--enabled=false"}, "Untagged retention: disabled (days: 1).", false, 1},
		{[]string{"retention", "set", "--days", "0", "--enabled=true"}, "Untagged retention: enabled, 0 days: ", true, 0},
	}
	for _, st := range steps {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, st.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit status %d: %s", st.args, code, stderr)
		}
		if !strings.HasPrefix(stdout, st.text) {
			t.Errorf("%v: output %q, want it to start %q", st.args, stdout, st.text)
		}
		code, stdout, stderr = regadm(t, "-data", data, "retention", "show", "--output", "json")
		if code != exitOK {
			t.Fatalf("show: exit status %d: %s", code, stderr)
		}
		var rp registry.RetentionPolicy
		if err := json.Unmarshal([]byte(stdout), &rp); err != nil {
			t.Fatalf("show: not JSON: %v\n%s", err, stdout)
		}
		if rp.Enabled != st.enabled || (st.days >= 0 && rp.Days != st.days) || (rp.Enabled && rp.EnabledAt.IsZero()) {
			t.Errorf("%v: stored %+v", st.args, rp)
		}
	}
	// The sweep runs and reports as purge does.
	code, stdout, stderr := regadm(t, "-data", data, "retention", "sweep", "--dry-run")
	if code != exitOK || !strings.Contains(stdout, "Would delete 0 tags and 0 manifests") {
		t.Errorf("sweep: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestLockRules(t *testing.T) {
	data, _ := newData(t, push{repo: "prod/api", tag: "v1"})
	code, stdout, stderr := regadm(t, "-data", data, "lock-rules", "show")
	if code != exitOK || stdout != "No lock rules.\n" {
		t.Fatalf("show: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	file := writeFile(t, "rules.json", `[
		{"repositories": "prod/.*", "tags": "^v[0-9]", "lockDelete": true},
		{"tags": "^release-"}
	]`)
	code, stdout, stderr = regadm(t, "-data", data, "lock-rules", "set", file)
	if code != exitOK {
		t.Fatalf("set: exit status %d: %s", code, stderr)
	}
	want := []string{
		"# REPOSITORIES TAGS LOCKS",
		"0 prod/.* ^v[0-9] writeEnabled=false deleteEnabled=false",
		"1 (all) ^release- writeEnabled=false",
	}
	if got := fields(stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("set printed:\n%s", stdout)
	}
	code, stdout, stderr = regadm(t, "-data", data, "-output", "json", "lock-rules", "show")
	if code != exitOK {
		t.Fatalf("show: exit status %d: %s", code, stderr)
	}
	var rules []registry.LockRule
	if err := json.Unmarshal([]byte(stdout), &rules); err != nil {
		t.Fatalf("show: not JSON: %v\n%s", err, stdout)
	}
	if len(rules) != 2 || rules[0].Repositories != "prod/.*" || !rules[0].LockDelete || rules[1].Tags != "^release-" {
		t.Errorf("stored rules: %+v", rules)
	}
	// A tag pushed now is created locked.
	withReg(t, data, func(reg *registry.Registry) {
		pushImage(t, reg, "prod/api", "v2")
		p, err := repoOf(t, reg, "prod/api").Tags().Properties(context.Background(), "v2")
		if err != nil {
			t.Fatal(err)
		}
		if p.Attributes.WriteEnabled || p.Attributes.DeleteEnabled {
			t.Errorf("prod/api:v2 created with %+v", p.Attributes)
		}
	})
	code, stdout, stderr = regadm(t, "-data", data, "lock-rules", "set", writeFile(t, "none.json", "[]"))
	if code != exitOK || stdout != "No lock rules.\n" {
		t.Errorf("clear: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestRetentionSweep: with retention enabled, a manifest untagged since is
// deleted by retention sweep (not by a background sweep: regadm runs none),
// and one untagged before the policy was enabled stays.
func TestRetentionSweep(t *testing.T) {
	data, imgs := newData(t, push{repo: "app", tag: "v1"}, push{repo: "app", tag: "v2"}, push{repo: "app", tag: ""})
	if code, _, stderr := regadm(t, "-data", data, "retention", "set", "--enabled=true", "--days=0"); code != exitOK {
		t.Fatalf("set: exit status %d: %s", code, stderr)
	}
	withReg(t, data, func(reg *registry.Registry) {
		if err := repoOf(t, reg, "app").Tags().Untag(context.Background(), "v1"); err != nil {
			t.Fatal(err)
		}
	})
	dry := purgeJSON(t, "-data", data, "retention", "sweep", "--dry-run")
	res := purgeJSON(t, "-data", data, "retention", "sweep")
	want := []string{"app@" + imgs.find(t, "app", "v1").digest.String()}
	if got := deleted(res); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if got := deleted(dry); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dry run planned %v, want %v", got, want)
	}
	for _, it := range res.Deleted {
		if it.Reason.Code != policy.ReasonRetention {
			t.Errorf("%s: reason %+v", it.Digest, it.Reason)
		}
	}
	if got := tags(t, data, "app"); strings.Join(got, " ") != "v2" {
		t.Errorf("app's tags: %v", got)
	}
	code, stdout, stderr := regadm(t, "-data", data, "retention", "sweep")
	if code != exitOK || !strings.Contains(stdout, "Deleted 0 tags and 0 manifests") {
		t.Errorf("second sweep: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
