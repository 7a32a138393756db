package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/registry"
)

func TestSoftDeleteSetting(t *testing.T) {
	data, _ := newData(t)
	steps := []struct {
		args    []string
		text    string // the start of the text output
		enabled bool
		days    int
	}{
		{[]string{"soft-delete", "show"}, "Soft delete: disabled (days: 7;", false, 7},
		{[]string{"soft-delete", "set", "--enabled=true", "--days", "3"}, "Soft delete: enabled, 3 days: ", true, 3},
		{[]string{"soft-delete", "set", "--days=1"}, "Soft delete: enabled, 1 day: ", true, 1},
		{[]string{"soft-delete", "set", "--enabled=false"}, "Soft delete: disabled (days: 1;", false, 1},
		{[]string{"soft-delete", "set", "--days", "90", "--enabled=true"}, "Soft delete: enabled, 90 days: ", true, 90},
	}
	for _, st := range steps {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, st.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit status %d: %s", st.args, code, stderr)
		}
		if !strings.HasPrefix(stdout, st.text) {
			t.Errorf("%v: output %q, want it to start %q", st.args, stdout, st.text)
		}
		code, stdout, stderr = regadm(t, "-data", data, "soft-delete", "show", "--output", "json")
		if code != exitOK {
			t.Fatalf("show: exit status %d: %s", code, stderr)
		}
		var p registry.SoftDeletePolicy
		if err := json.Unmarshal([]byte(stdout), &p); err != nil {
			t.Fatalf("show: not JSON: %v\n%s", err, stdout)
		}
		if p.Enabled != st.enabled || p.Days != st.days {
			t.Errorf("%v: stored %+v", st.args, p)
		}
	}
	for _, args := range [][]string{
		{"soft-delete", "set"},
		{"soft-delete", "set", "--days", "0"},
		{"soft-delete", "set", "--days", "91"},
		{"soft-delete", "set", "--enabled", "false"},
		{"soft-delete", "show", "extra"},
		{"soft-delete", "frob"},
	} {
		if code, _, stderr := regadm(t, append([]string{"-data", data}, args...)...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit status %d, stderr %q; want 2", args, code, stderr)
		}
	}
}

// softData is a data folder with soft delete on (7 days) where app:v1's
// manifest was deleted, then app:v2 untagged (its manifest stays), and
// repository old deleted; app:keep stays.
func softData(t *testing.T) (data string, imgs pushed) {
	t.Helper()
	data, imgs = newData(t, push{repo: "app", tag: "keep"}, push{repo: "app", tag: "v1"}, push{repo: "app", tag: "v2"}, push{repo: "old", tag: "v1"})
	if code, _, stderr := regadm(t, "-data", data, "soft-delete", "set", "--enabled=true"); code != exitOK {
		t.Fatalf("set: exit status %d: %s", code, stderr)
	}
	withReg(t, data, func(reg *registry.Registry) {
		ctx := context.Background()
		app := repoOf(t, reg, "app")
		if err := app.Manifests().Delete(ctx, imgs.find(t, "app", "v1").digest); err != nil {
			t.Fatal(err)
		}
		if err := app.Tags().Untag(ctx, "v2"); err != nil {
			t.Fatal(err)
		}
		if err := reg.DeleteRepository(ctx, "old"); err != nil {
			t.Fatal(err)
		}
	})
	return data, imgs
}

func TestDeletedList(t *testing.T) {
	data, imgs := softData(t)
	d1 := imgs.find(t, "app", "v1").digest

	// The deleted repositories.
	code, stdout, stderr := regadm(t, "-data", data, "deleted", "list")
	if code != exitOK || !strings.HasPrefix(stdout, "REPOSITORY") || len(fields(stdout)) != 2 || !strings.HasPrefix(fields(stdout)[1], "old ") {
		t.Errorf("deleted list: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var repos []deletedRepoJSON
	jsonOut(t, &repos, "-data", data, "deleted", "list", "--output", "json")
	if len(repos) != 1 || repos[0].Repository != "old" || repos[0].ExpiresAt.Sub(repos[0].DeletedAt) != 7*24*time.Hour || repos[0].CreatedAt.IsZero() {
		t.Errorf("deleted repositories = %+v", repos)
	}

	// A repository's deleted manifests and tags, newest first.
	var got deletedContentJSON
	jsonOut(t, &got, "-data", data, "-output", "json", "deleted", "list", "--repository", "app")
	if got.Repository != "app" || len(got.Manifests) != 1 || len(got.Tags) != 2 {
		t.Fatalf("deleted in app = %+v", got)
	}
	if m := got.Manifests[0]; m.Digest != d1.String() || strings.Join(m.Tags, ",") != "v1" || m.Size == 0 || m.MediaType == "" ||
		m.ExpiresAt.Sub(m.DeletedAt) != 7*24*time.Hour {
		t.Errorf("deleted manifest = %+v", m)
	}
	if got.Tags[0].Tag != "v2" || got.Tags[1].Tag != "v1" || got.Tags[1].Digest != d1.String() || got.Tags[0].DeletedAt.Before(got.Tags[1].DeletedAt) {
		t.Errorf("deleted tags = %+v, want v2 then v1", got.Tags)
	}
	code, stdout, _ = regadm(t, "-data", data, "deleted", "list", "--repository", "app")
	rows := fields(stdout)
	if code != exitOK || len(rows) != 6 || !strings.HasPrefix(rows[0], "MANIFEST DELETED EXPIRES TAGS") ||
		!strings.HasPrefix(rows[1], shortDigest(d1)+" ") || rows[2] != "" || !strings.HasPrefix(rows[3], "TAG DELETED EXPIRES MANIFEST") ||
		!strings.HasPrefix(rows[4], "v2 ") || !strings.HasPrefix(rows[5], "v1 ") {
		t.Errorf("deleted list --repository app: exit status %d:\n%s", code, stdout)
	}
	// A deleted repository lists its content too; one with nothing deleted
	// says so.
	var old deletedContentJSON
	jsonOut(t, &old, "-data", data, "-output", "json", "deleted", "list", "--repository", "old")
	if len(old.Manifests) != 1 || len(old.Tags) != 1 {
		t.Errorf("deleted in old = %+v", old)
	}
	if code, stdout, _ := regadm(t, "-data", data, "deleted", "list", "--repository", "never"); code != exitOK || stdout != "Nothing deleted in never.\n" {
		t.Errorf("never: exit status %d, stdout %q", code, stdout)
	}
	for _, args := range [][]string{
		{"deleted", "list", "app"},
		{"deleted", "list", "--repository", "Bad"},
		{"deleted"},
	} {
		if code, _, stderr := regadm(t, append([]string{"-data", data}, args...)...); code != exitUsage {
			t.Errorf("%v: exit status %d, stderr %q; want 2", args, code, stderr)
		}
	}
}

func TestRestore(t *testing.T) {
	data, imgs := softData(t)
	d1, d2 := imgs.find(t, "app", "v1").digest, imgs.find(t, "app", "v2").digest

	// By tag: the manifest the most recently deleted v1 pointed at.
	code, stdout, stderr := regadm(t, "-data", data, "restore", "app:v1")
	if code != exitOK || stdout != "Restored app@"+d1.String()+" with tag v1.\n" {
		t.Fatalf("restore app:v1: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A tag whose manifest is still stored is only re-tagged.
	code, stdout, _ = regadm(t, "-data", data, "restore", "app:v2")
	if code != exitOK || stdout != "Re-tagged app@"+d2.String()+" with tag v2.\n" {
		t.Errorf("restore app:v2: exit status %d, stdout %q", code, stdout)
	}
	if got := strings.Join(tags(t, data, "app"), " "); got != "keep v1 v2" {
		t.Errorf("app's tags = %s", got)
	}
	// By digest, in a deleted repository: the repository comes back.
	var res restoreJSON
	jsonOut(t, &res, "-data", data, "restore", "old@"+imgs.find(t, "old", "v1").digest.String(), "--output", "json")
	if !res.RepositoryRestored || !res.ManifestRestored || strings.Join(res.Tags, ",") != "v1" || len(res.OverwrittenTags) != 0 || len(res.DeletedManifests) != 0 {
		t.Errorf("restore old = %+v", res)
	}

	// A tag pushed again elsewhere: refused without --force.
	var d3 digest.Digest
	withReg(t, data, func(reg *registry.Registry) {
		if err := repoOf(t, reg, "app").Manifests().Delete(context.Background(), d1); err != nil {
			t.Fatal(err)
		}
		d3 = pushImage(t, reg, "app", "v1")
	})
	code, _, stderr = regadm(t, "-data", data, "restore", "app@"+d1.String())
	if code != exitFailed || !strings.Contains(stderr, "force") {
		t.Errorf("restore over a moved tag: exit status %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = regadm(t, "-data", data, "restore", "--force", "app@"+d1.String())
	if code != exitOK || !strings.Contains(stdout, "Moved tag v1 from "+shortDigest(d3)) || !strings.Contains(stdout, "Soft-deleted "+shortDigest(d3)) {
		t.Errorf("restore --force: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var got deletedContentJSON
	jsonOut(t, &got, "-data", data, "-output", "json", "deleted", "list", "--repository", "app")
	if len(got.Manifests) != 1 || got.Manifests[0].Digest != d3.String() {
		t.Errorf("deleted after --force = %+v", got.Manifests)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"restore", "app@" + digest.FromString("never").String()}, exitFailed},
		{[]string{"restore", "app:nothing"}, exitFailed},
		{[]string{"restore", "app"}, exitUsage},
		{[]string{"restore"}, exitUsage},
		{[]string{"restore", "app:v1", "app:v2"}, exitUsage},
		{[]string{"restore", "app@sha256:zz"}, exitUsage},
	} {
		if code, _, stderr := regadm(t, append([]string{"-data", data}, c.args...)...); code != c.code || stderr == "" {
			t.Errorf("%v: exit status %d, stderr %q; want %d", c.args, code, stderr, c.code)
		}
	}
	if code, _, stderr := regadm(t, "-registry", "http://127.0.0.1:1", "restore", "app:v1"); code != exitUsage || !strings.Contains(stderr, "needs -data") {
		t.Errorf("restore over -registry: exit status %d, stderr %q", code, stderr)
	}
}

// TestSoftDeleteHeld: the verbs refuse a folder a server holds.
func TestSoftDeleteHeld(t *testing.T) {
	data, _ := newData(t, push{repo: "app", tag: "v1"})
	server, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	for _, args := range [][]string{
		{"soft-delete", "show"},
		{"soft-delete", "set", "--enabled=true"},
		{"deleted", "list"},
		{"restore", "app:v1"},
	} {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, args...)...)
		if code != exitFailed || stdout != "" || !strings.Contains(stderr, "a server (such as registryd) holds") {
			t.Errorf("%v: exit status %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if p, err := server.SoftDelete(context.Background()); err != nil || p.Enabled {
		t.Errorf("the server's setting = %+v, %v", p, err)
	}
}

// jsonOut runs regadm, which must succeed, and decodes its JSON output
// into v.
func jsonOut(t *testing.T, v any, args ...string) {
	t.Helper()
	code, stdout, stderr := regadm(t, args...)
	if code != exitOK {
		t.Fatalf("%v: exit status %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%v: not JSON: %v\n%s", args, err, stdout)
	}
}
