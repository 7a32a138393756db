package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
)

// TestCacheRules creates, lists and deletes cache rules, and finds them in
// the data folder as a server opens it.
func TestCacheRules(t *testing.T) {
	data, _ := newData(t)
	t.Setenv("REGKIT_PASSWORD", "s3cret")
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"cache-rule", "list"}, exitOK, "No cache rules."},
		{[]string{"cache-rule", "create", "hub"}, exitUsage, ""},
		{[]string{"cache-rule", "create", "hub", "--source-repo", "docker.io/*", "--target-repo", "hub"}, exitUsage, ""},
		{[]string{"cache-rule", "create", "hub", "--source-repo", "docker.io/*", "--target-repo", "hub/*"}, exitOK, "hub   hub/*   docker.io/*  (none)"},
		{[]string{"cache-rule", "create", "ubuntu", "--source-repo", "docker.io/library/ubuntu", "--target-repo", "ubuntu", "--username", "bob"}, exitOK, "user bob"},
		{[]string{"cache-rule", "create", "other", "--source-repo", "quay.io/x", "--target-repo", "ubuntu"}, exitFailed, ""},
		{[]string{"cache-rule", "list"}, exitOK, "ubuntu  ubuntu"},
		{[]string{"cache-rule", "delete", "nope"}, exitFailed, ""},
		{[]string{"cache-rule", "delete", "hub"}, exitOK, "ubuntu"},
	}
	for _, st := range steps {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, st.args...)...)
		if code != st.code {
			t.Fatalf("%v: exit status %d, want %d: %s", st.args, code, st.code, stderr)
		}
		if !strings.Contains(stdout, st.out) {
			t.Errorf("%v: output %q, want it to contain %q", st.args, stdout, st.out)
		}
		if strings.Contains(stdout, "s3cret") {
			t.Errorf("%v: the output shows the password: %s", st.args, stdout)
		}
	}
	code, stdout, stderr := regadm(t, "-data", data, "cache-rule", "list", "--output", "json")
	if code != exitOK {
		t.Fatalf("list: %d %s", code, stderr)
	}
	var rules []struct {
		registry.CacheRule
		HasPassword bool `json:"hasPassword"`
	}
	if err := json.Unmarshal([]byte(stdout), &rules); err != nil || len(rules) != 1 {
		t.Fatalf("list --output json: %v\n%s", err, stdout)
	}
	if r := rules[0]; r.Name != "ubuntu" || r.Username != "bob" || r.Password != "" || !r.HasPassword {
		t.Fatalf("list --output json: %+v", r)
	}
	// Stored as given, for the server to present upstream.
	reg, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	stored, err := reg.CacheRules(context.Background())
	if err != nil || len(stored) != 1 || stored[0].Password != "s3cret" {
		t.Fatalf("stored rules: %+v %v", stored, err)
	}
}
