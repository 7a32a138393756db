package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry"
)

// TestStoredPolicies stores a policy, runs it with sweep, and finds the run
// in the records.
func TestStoredPolicies(t *testing.T) {
	data, _ := newData(t, push{repo: "app", tag: "dev-1", age: 48 * time.Hour}, push{repo: "app", tag: "v1", age: 48 * time.Hour})
	file := writeFile(t, "devs.json", `{"purge":{"filters":["app:^dev-"],"ago":"1d","untagged":true}}`)
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"policy", "list"}, exitOK, "No stored policies."},
		{[]string{"policy", "set", "devs"}, exitUsage, ""},
		{[]string{"policy", "set", "devs", writeFile(t, "bad.json", `{"purge":{"filters":["app"]}}`)}, exitUsage, ""},
		{[]string{"policy", "set", "devs", file}, exitOK, "devs  purge [app:^dev-] ago 1d untagged"},
		{[]string{"runs"}, exitOK, "No runs recorded."},
		{[]string{"sweep", "--dry-run"}, exitOK, "Would delete 1 tag and 1 manifest"},
		{[]string{"sweep"}, exitOK, "Deleted 1 tag and 1 manifest"},
		{[]string{"runs"}, exitOK, "policy:devs"},
		{[]string{"policy", "delete", "nope"}, exitFailed, ""},
		{[]string{"policy", "delete", "devs"}, exitOK, "No stored policies."},
	}
	for _, st := range steps {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, st.args...)...)
		if code != st.code {
			t.Fatalf("%v: exit status %d, want %d: %s", st.args, code, st.code, stderr)
		}
		if !strings.Contains(stdout, st.out) {
			t.Errorf("%v: output %q, want it to contain %q", st.args, stdout, st.out)
		}
	}
	code, stdout, stderr := regadm(t, "-data", data, "runs", "--output", "json")
	if code != exitOK {
		t.Fatalf("runs: %d %s", code, stderr)
	}
	var runs []registry.RunRecord
	if err := json.Unmarshal([]byte(stdout), &runs); err != nil {
		t.Fatalf("runs: not JSON: %v\n%s", err, stdout)
	}
	if len(runs) != 2 || runs[0].Kind != "policy:devs" || runs[0].DryRun || !runs[1].DryRun || runs[0].Deleted != 2 {
		t.Fatalf("runs %+v", runs)
	}
}
