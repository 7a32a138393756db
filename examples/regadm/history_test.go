package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry"
)

// TestHistoryAndRevert: history shows a tag's moves, revert puts it back
// (by an age and by an RFC 3339 time), and refusals exit 1 or 2.
func TestHistoryAndRevert(t *testing.T) {
	data, imgs := newData(t,
		push{repo: "app", tag: "v1", age: 3 * time.Hour},
		push{repo: "app", tag: "v1", age: time.Hour},
		push{repo: "app", tag: "v2", age: time.Hour},
	)
	first, second := imgs[0].digest, imgs[1].digest

	code, stdout, stderr := regadm(t, "-data", data, "history", "app:v1")
	if code != exitOK {
		t.Fatalf("history: exit status %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	fields := func(i int) string { return strings.Join(strings.Fields(lines[i])[1:], " ") }
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") ||
		fields(1) != "v1 push "+first.String()+" "+second.String() || fields(2) != "v1 push - "+first.String() {
		t.Errorf("history:\n%s", stdout)
	}

	code, stdout, stderr = regadm(t, "-data", data, "revert", "app:v1", "--to", "2h")
	if code != exitOK || !strings.Contains(stdout, "app:v1 points to "+first.String()) {
		t.Fatalf("revert --to 2h: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, stderr = regadm(t, "-data", data, "-output", "json", "history", "app")
	if code != exitOK {
		t.Fatalf("history app: exit status %d: %s", code, stderr)
	}
	var moves []registry.TagMove
	if err := json.Unmarshal([]byte(stdout), &moves); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(moves) != 4 || moves[0].Kind != registry.MoveRevert || moves[0].Old != second || moves[0].New != first || moves[0].Tag != "v1" {
		t.Errorf("history app: %+v", moves)
	}
	code, stdout, _ = regadm(t, "-data", data, "history", "app", "--n", "1", "--output", "json")
	if err := json.Unmarshal([]byte(stdout), &moves); code != exitOK || err != nil || len(moves) != 1 {
		t.Errorf("history --n 1: exit %d, %v, %d moves", code, err, len(moves))
	}

	// Back to the second push, by its time.
	at := moves[0].Time.Add(-time.Minute).Format(time.RFC3339Nano)
	code, stdout, stderr = regadm(t, "-data", data, "-output", "json", "revert", "app:v1", "--to", at)
	var res revertResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &res) != nil || res.Digest != second || res.Ref != "app:v1" {
		t.Fatalf("revert --to %s: exit status %d, stdout %q, stderr %q", at, code, stdout, stderr)
	}

	code, stdout, _ = regadm(t, "-data", data, "history", "app:nope")
	if code != exitOK || stdout != "No recorded moves of app:nope.\n" {
		t.Errorf("history of an unknown tag: exit %d, %q", code, stdout)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"revert", "app:v1"}, exitUsage, "--to is required"},
		{[]string{"revert", "app:v1", "--to", "yesterday"}, exitUsage, "neither an RFC 3339 time nor an age"},
		{[]string{"revert", "app", "--to", "1h"}, exitUsage, "name a tag"},
		{[]string{"history", "app@sha256:" + strings.Repeat("0", 64)}, exitUsage, "not a digest"},
		{[]string{"history"}, exitUsage, "want one"},
		{[]string{"revert", "app:v1", "--to", "30d"}, exitFailed, "older than the tag history window"},
		{[]string{"revert", "app:v2", "--to", "2h"}, exitFailed, "did not exist"},
	} {
		code, _, stderr := regadm(t, append([]string{"-data", data}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit status %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

// TestRevertGone: a revert to a manifest that was deleted names it.
func TestRevertGone(t *testing.T) {
	data, imgs := newData(t,
		push{repo: "app", tag: "v1", age: 3 * time.Hour},
		push{repo: "app", tag: "v1", age: time.Hour},
	)
	first := imgs[0].digest
	reg, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	repo := repoOf(t, reg, "app")
	if err := repo.Manifests().Delete(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := regadm(t, "-data", data, "revert", "app:v1", "--to", "2h")
	if code != exitFailed || !strings.Contains(stderr, first.String()) || !strings.Contains(stderr, "no longer in the repository") {
		t.Errorf("exit status %d, stderr %q", code, stderr)
	}
}
