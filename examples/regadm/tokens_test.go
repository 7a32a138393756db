package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
)

// authenticate checks credentials against the data folder's access model.
func authenticate(t *testing.T, data, user, password string) (subject string, err error) {
	t.Helper()
	withReg(t, data, func(reg *registry.Registry) {
		svc, nerr := access.New(context.Background(), reg)
		if nerr != nil {
			t.Fatal(nerr)
		}
		subject, err = svc.Authenticate(context.Background(), user, password)
	})
	return subject, err
}

// allowed returns what subject holds on repo in the data folder.
func allowed(t *testing.T, data, subject, repo string) string {
	t.Helper()
	var out []string
	withReg(t, data, func(reg *registry.Registry) {
		svc, err := access.New(context.Background(), reg)
		if err != nil {
			t.Fatal(err)
		}
		as, err := svc.Allowed(context.Background(), subject, repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			out = append(out, string(a))
		}
	})
	return strings.Join(out, ",")
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := regadm(t, args...)
	if code != exitOK {
		t.Fatalf("%v: exit status %d: %s", args, code, stderr)
	}
	return stdout
}

func TestScopeMapVerbs(t *testing.T) {
	data, _ := newData(t)
	out := mustRun(t, "-data", data, "scope-map", "create", "MyScopeMap",
		"--repository", "samples/*", "content/read",
		"--repository=samples/hello", "content/write,metadata/read",
		"--description", "Sample scope map")
	want := []string{
		"Scope map MyScopeMap (user-defined, created ",
		"REPOSITORY ACTIONS",
		"samples/* content/read",
		"samples/hello content/write,metadata/read",
	}
	if got := fields(out); len(got) != 4 || !strings.HasPrefix(got[0], want[0]) || strings.Join(got[1:], "\n") != strings.Join(want[1:], "\n") {
		t.Errorf("create printed:\n%s", out)
	}
	out = mustRun(t, "-data", data, "scope-map", "list")
	if !strings.Contains(out, "_repositories_admin") || !strings.Contains(out, "SystemDefined") || !regexp.MustCompile(`MyScopeMap +UserDefined .* 2 +Sample scope map`).MatchString(out) {
		t.Errorf("list printed:\n%s", out)
	}
	var maps []access.ScopeMap
	if err := json.Unmarshal([]byte(mustRun(t, "-data", data, "scope-map", "list", "--output", "json")), &maps); err != nil || len(maps) != 6 {
		t.Fatalf("list json: %v, %d maps", err, len(maps))
	}
	out = mustRun(t, "-data", data, "scope-map", "update", "myscopemap",
		"--add-repository", "other", "metadata/read", "--remove-repository", "samples/hello", "content/write", "--description", "changed")
	if !strings.Contains(out, "changed") || !strings.Contains(out, "other") || strings.Contains(out, "content/write") {
		t.Errorf("update printed:\n%s", out)
	}
	var m access.ScopeMap
	if err := json.Unmarshal([]byte(mustRun(t, "-data", data, "-output", "json", "scope-map", "show", "MyScopeMap")), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Rules) != 3 || m.Description != "changed" {
		t.Errorf("show: %+v", m)
	}
	out = mustRun(t, "-data", data, "scope-map", "show", "_repositories_pull")
	if !strings.Contains(out, "system-defined") || !strings.Contains(out, "* content/read") && !strings.Contains(out, "*           content/read") {
		t.Errorf("show system:\n%s", out)
	}
	// Bad usage does nothing and exits 2; failures exit 1.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"scope-map", "create", "NoRules"}, exitUsage, "at least one --repository"},
		{[]string{"scope-map", "create", "BadRule", "--repository", "a/*/b", "content/read"}, exitUsage, "wildcard"},
		{[]string{"scope-map", "create", "BadAct", "--repository", "a", "pull"}, exitUsage, "invalid action"},
		{[]string{"scope-map", "create", "Half", "--repository", "a"}, exitUsage, "takes a repository and"},
		{[]string{"scope-map", "create", "abc", "--repository", "a", "content/read"}, exitUsage, "5 to 50"},
		{[]string{"scope-map", "create", "myscopemap", "--repository", "a", "content/read"}, exitFailed, "already exists"},
		{[]string{"scope-map", "update", "MyScopeMap"}, exitUsage, "give --add-repository"},
		{[]string{"scope-map", "update", "_repositories_pull", "--description", "x"}, exitFailed, "read-only"},
		{[]string{"scope-map", "show", "missing-map"}, exitFailed, "not found"},
		{[]string{"scope-map", "delete", "missing-map"}, exitFailed, "not found"},
		{[]string{"scope-map", "frob"}, exitUsage, "scope-map takes create, list"},
	} {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, stdout, stderr, tc.code, tc.msg)
		}
	}
	mustRun(t, "-data", data, "token", "create", "user1", "--scope-map", "MyScopeMap", "--no-passwords")
	if code, _, stderr := regadm(t, "-data", data, "scope-map", "delete", "MyScopeMap"); code != exitFailed || !strings.Contains(stderr, "in use") {
		t.Errorf("delete in use: %d %s", code, stderr)
	}
	mustRun(t, "-data", data, "token", "delete", "user1")
	if out := mustRun(t, "-data", data, "scope-map", "delete", "MyScopeMap"); out != "Deleted scope map MyScopeMap.\n" {
		t.Errorf("delete printed %q", out)
	}
}

func TestTokenVerbs(t *testing.T) {
	data, _ := newData(t)
	mustRun(t, "-data", data, "scope-map", "create", "pushers", "--repository", "app/*", "content/read,content/write")
	out := mustRun(t, "-data", data, "-output", "json", "token", "create", "MyToken", "--scope-map", "pushers", "--expiration", "30d")
	var created tokenOutput
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create json: %v\n%s", err, out)
	}
	if created.Token == nil || created.Name != "MyToken" || created.Status != access.StatusEnabled || len(created.Generated) != 2 || len(created.Passwords) != 2 || created.Passwords[0].Expiry.IsZero() {
		t.Fatalf("created %+v", created)
	}
	for _, g := range created.Generated {
		if sub, err := authenticate(t, data, "MyToken", g.Value); err != nil || sub != "token:MyToken" {
			t.Errorf("%s: %q, %v", g.Slot, sub, err)
		}
	}
	if got := allowed(t, data, "token:MyToken", "app/web"); got != "content/read,content/write" {
		t.Errorf("allowed %s", got)
	}
	// Text output shows the passwords once, show never.
	out = mustRun(t, "-data", data, "token", "create", "Second", "--scope-map", "_repositories_pull")
	if !strings.Contains(out, "Generated passwords") || len(regexp.MustCompile(`password[12] +[A-Za-z0-9_-]{43}\n`).FindAllString(out, -1)) != 2 {
		t.Errorf("create printed:\n%s", out)
	}
	out = mustRun(t, "-data", data, "token", "show", "second")
	if strings.Contains(out, "Generated") || !strings.Contains(out, "Token Second: scope map _repositories_pull, enabled") || !strings.Contains(out, "never") {
		t.Errorf("show printed:\n%s", out)
	}
	out = mustRun(t, "-data", data, "token", "list")
	if !regexp.MustCompile(`MyToken +pushers +enabled .* 2\n`).MatchString(out) || !strings.Contains(out, "Second") {
		t.Errorf("list printed:\n%s", out)
	}
	var list []access.Token
	if err := json.Unmarshal([]byte(mustRun(t, "-data", data, "token", "list", "--output", "json")), &list); err != nil || len(list) != 2 {
		t.Fatalf("list json: %v %+v", err, list)
	}
	// Disable: refused; enable and move: new rights.
	mustRun(t, "-data", data, "token", "update", "MyToken", "--status", "disabled")
	if _, err := authenticate(t, data, "MyToken", created.Generated[0].Value); err == nil {
		t.Error("disabled token authenticated")
	}
	out = mustRun(t, "-data", data, "token", "update", "MyToken", "--status=enabled", "--scope-map", "_repositories_admin")
	if !strings.Contains(out, "scope map _repositories_admin, enabled") {
		t.Errorf("update printed:\n%s", out)
	}
	if got := allowed(t, data, "token:MyToken", "any"); got != "content/read,content/write,content/delete,metadata/read,metadata/write" {
		t.Errorf("allowed after update: %s", got)
	}
	// Passwords: regenerate password1, delete password2.
	var regen tokenOutput
	if err := json.Unmarshal([]byte(mustRun(t, "-data", data, "-output", "json", "token", "password", "generate", "MyToken", "--password1")), &regen); err != nil || len(regen.Generated) != 1 {
		t.Fatalf("generate: %v %+v", err, regen)
	}
	if _, err := authenticate(t, data, "MyToken", created.Generated[0].Value); err == nil {
		t.Error("replaced password1 authenticated")
	}
	if _, err := authenticate(t, data, "MyToken", regen.Generated[0].Value); err != nil {
		t.Errorf("new password1: %v", err)
	}
	out = mustRun(t, "-data", data, "token", "password", "delete", "MyToken", "--password2")
	if strings.Contains(out, "password2") {
		t.Errorf("delete printed:\n%s", out)
	}
	if _, err := authenticate(t, data, "MyToken", created.Generated[1].Value); err == nil {
		t.Error("deleted password2 authenticated")
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"token", "create", "Third"}, exitUsage, "--scope-map is required"},
		{[]string{"token", "create", "Third", "--scope-map", "pushers", "--status", "paused"}, exitUsage, "enabled or disabled"},
		{[]string{"token", "create", "Third", "--scope-map", "pushers", "--expiration", "soon"}, exitUsage, "--expiration"},
		{[]string{"token", "create", "Third", "--scope-map", "nope-map"}, exitFailed, "not found"},
		{[]string{"token", "create", "mytoken", "--scope-map", "pushers"}, exitFailed, "already exists"},
		{[]string{"token", "update", "MyToken"}, exitUsage, "give --scope-map"},
		{[]string{"token", "show", "nobody"}, exitFailed, "not found"},
		{[]string{"token", "password", "delete", "MyToken"}, exitUsage, "give --password1"},
		{[]string{"token", "password", "generate", "nobody"}, exitFailed, "not found"},
		{[]string{"token", "password"}, exitUsage, "unknown command"},
	} {
		code, stdout, stderr := regadm(t, append([]string{"-data", data}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, stdout, stderr, tc.code, tc.msg)
		}
	}
	if out := mustRun(t, "-data", data, "token", "delete", "MyToken"); out != "Deleted token MyToken.\n" {
		t.Errorf("delete printed %q", out)
	}
	if _, err := authenticate(t, data, "MyToken", regen.Generated[0].Value); err == nil {
		t.Error("deleted token authenticated")
	}
}

func TestAnonymousAndAdminVerbs(t *testing.T) {
	data, _ := newData(t)
	if out := mustRun(t, "-data", data, "anonymous-pull", "show"); out != "Anonymous pull: disabled.\n" {
		t.Errorf("show: %q", out)
	}
	if out := mustRun(t, "-data", data, "anonymous-pull", "set", "--enabled=true"); !strings.HasPrefix(out, "Anonymous pull: enabled") {
		t.Errorf("set: %q", out)
	}
	if out := mustRun(t, "-data", data, "anonymous-pull", "show", "--output", "json"); !strings.Contains(out, `"anonymousPullEnabled": true`) {
		t.Errorf("show json: %q", out)
	}
	if got := allowed(t, data, "", "any/repo"); got != "content/read,metadata/read" {
		t.Errorf("anonymous holds %q", got)
	}
	if code, _, _ := regadm(t, "-data", data, "anonymous-pull", "set"); code != exitUsage {
		t.Errorf("set without --enabled: %d", code)
	}

	if out := mustRun(t, "-data", data, "admin", "show"); out != "Admin user: disabled.\n" {
		t.Errorf("admin show: %q", out)
	}
	// Generated and printed once.
	var set struct {
		access.Admin
		Password string `json:"password"`
	}
	t.Setenv(adminPasswordEnv, "")
	if err := json.Unmarshal([]byte(mustRun(t, "-data", data, "-output", "json", "admin", "set", "--username", "myregistry")), &set); err != nil {
		t.Fatal(err)
	}
	if !set.Enabled || set.Username != "myregistry" || len(set.Password) != 43 {
		t.Fatalf("admin set: %+v", set)
	}
	if sub, err := authenticate(t, data, "myregistry", set.Password); err != nil || sub != access.SubjectAdmin {
		t.Errorf("admin: %q %v", sub, err)
	}
	// From the environment, not printed.
	t.Setenv(adminPasswordEnv, "from-the-environment")
	out := mustRun(t, "-data", data, "admin", "set", "--username", "myregistry")
	if strings.Contains(out, "from-the-environment") || strings.Contains(out, "Generated") || !strings.HasPrefix(out, "Admin user: myregistry (set ") {
		t.Errorf("admin set from env printed %q", out)
	}
	if _, err := authenticate(t, data, "myregistry", "from-the-environment"); err != nil {
		t.Errorf("env password: %v", err)
	}
	if got := allowed(t, data, access.SubjectAdmin, ""); got != string(access.ActionCatalog) {
		t.Errorf("admin catalog: %q", got)
	}
	if code, _, stderr := regadm(t, "-data", data, "admin", "set", "--username", "ab"); code != exitUsage || !strings.Contains(stderr, "5 to 50") {
		t.Errorf("bad username: %d %s", code, stderr)
	}
	if out := mustRun(t, "-data", data, "admin", "disable"); out != "Admin user: disabled.\n" {
		t.Errorf("disable: %q", out)
	}
	if _, err := authenticate(t, data, "myregistry", "from-the-environment"); err == nil {
		t.Error("disabled admin authenticated")
	}
}

func TestTakeRules(t *testing.T) {
	rules, rest, err := takeRules([]string{"NAME", "-repository", "a", "content/read", "--x", "--repository=b/*", "metadata/read", "--", "--repository", "c"}, "repository")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules["repository"]) != 2 || rules["repository"][1].Repository != "b/*" || strings.Join(rest, " ") != "NAME --x -- --repository c" {
		t.Errorf("rules %+v, rest %v", rules, rest)
	}
	if _, _, err := takeRules([]string{"--repository=a"}, "repository"); !isUsage(err) {
		t.Errorf("missing actions: %v", err)
	}
}
