package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regkit/regkit/registry"
)

// TestUsage: bad usage exits 2 with a clear message, before the data
// folder is touched (the folder named by -data does not exist, and must
// still not exist afterwards: regadm neither created nor opened it).
func TestUsage(t *testing.T) {
	files := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodPurge := []string{"purge", "--filter", "app:.*", "--ago", "1d"}
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"group without verb", []string{"retention"}, `unknown command "retention": retention takes show, set, sweep`},
		{"bad sub-verb", []string{"lock-rules", "list"}, `unknown command "lock-rules list"`},
		{"unknown global flag", []string{"-bogus", "purge"}, "flag provided but not defined: -bogus"},
		{"bad output", []string{"-output", "yaml", "retention", "show"}, `-output "yaml": want text or json`},
		{"bad output after verb", []string{"retention", "show", "--output=xml"}, `-output "xml"`},

		{"purge without flags", []string{"purge"}, "purge:"},
		{"purge without ago", []string{"purge", "--filter", "app:.*"}, "ago"},
		{"purge bad regex", []string{"purge", "--filter", "app:[", "--ago", "1d"}, `--filter "app:["`},
		{"purge bad repo regex", []string{"purge", "--filter", "(app:.*", "--ago", "1d"}, `--filter "(app:.*"`},
		{"purge filter without colon", []string{"purge", "--filter", "app", "--ago", "1d"}, `--filter "app"`},
		{"purge bad ago", []string{"purge", "--filter", "app:.*", "--ago", "3x"}, `--ago "3x"`},
		{"purge negative ago", []string{"purge", "--filter", "app:.*", "--ago", "-1d"}, `--ago "-1d"`},
		{"purge fractional days", []string{"purge", "--filter", "app:.*", "--ago", "1.5d"}, `--ago "1.5d"`},
		{"purge untagged and untagged-only", append(goodPurge, "--untagged", "--untagged-only"), "purge:"},
		{"purge negative keep", append(goodPurge, "--keep", "-1"), "purge:"},
		{"purge keep not a number", append(goodPurge, "--keep", "two"), `invalid value "two" for flag -keep`},
		{"purge concurrency too high", append(goodPurge, "--concurrency", "33"), "--concurrency 33: want 1 to 32"},
		{"purge negative concurrency", append(goodPurge, "--concurrency", "-1"), "--concurrency -1"},
		{"purge unknown flag", append(goodPurge, "--force"), "flag provided but not defined: -force"},
		{"purge stray argument", append(goodPurge, "app"), `unexpected argument "app"`},

		{"policy apply without file", []string{"policy", "apply"}, "want one policy file"},
		{"policy apply two files", []string{"policy", "apply", "a.json", "b.json"}, "want one policy file"},
		{"policy apply missing file", []string{"policy", "apply", filepath.Join(files, "none.json")}, "read policy"},
		{"policy not JSON", []string{"policy", "apply", file("bad.json", "purge:")}, "decode JSON"},
		{"policy unknown field", []string{"policy", "apply", file("unknown.json", `{"purge": {"filters": ["app:.*"], "ago": "1d", "force": true}}`)}, `unknown field "force"`},
		{"policy trailing data", []string{"policy", "apply", file("trailing.json", `{"purge": {"filters": ["app:.*"], "ago": "1d"}} {}`)}, "data after the first value"},
		{"policy empty", []string{"policy", "apply", file("empty.json", `{}`)}, "it would delete nothing"},
		{"policy bad regex", []string{"policy", "apply", file("regex.json", `{"purge": {"filters": ["app:(?<"], "ago": "1d"}}`)}, "policy "},
		{"policy bad ago", []string{"policy", "apply", file("ago.json", `{"purge": {"filters": ["app:.*"], "ago": "soon"}}`)}, "policy "},
		{"policy bad retention", []string{"policy", "apply", file("days.json", `{"untaggedRetention": {"days": 400}}`)}, "policy "},
		{"policy bad keep rule", []string{"policy", "apply", file("keep.json", `{"purge": {"filters": ["app:.*"], "ago": "1d"}, "keep": [{"tags": "["}]}`)}, "policy "},
		{"policy bad concurrency", []string{"policy", "apply", file("ok.json", `{"purge": {"filters": ["app:.*"], "ago": "1d"}}`), "--concurrency", "100"}, "--concurrency 100"},

		{"retention show argument", []string{"retention", "show", "now"}, `unexpected argument "now"`},
		{"retention set nothing", []string{"retention", "set"}, "give --enabled=true|false, --days N, or both"},
		{"retention set days too many", []string{"retention", "set", "--days", "366"}, "--days 366: want 0 to 365"},
		{"retention set negative days", []string{"retention", "set", "--days", "-1"}, "--days -1"},
		{"retention set enabled without =", []string{"retention", "set", "--enabled", "false"}, `unexpected argument "false"`},
		{"retention set enabled not a bool", []string{"retention", "set", "--enabled=maybe"}, "invalid boolean value"},
		{"retention sweep concurrency", []string{"retention", "sweep", "--concurrency", "64"}, "--concurrency 64"},

		{"lock nothing", []string{"lock"}, "name at least one"},
		{"unlock nothing", []string{"unlock"}, "name at least one"},
		{"lock bad repository", []string{"lock", "App"}, `"App"`},
		{"lock bad tag", []string{"lock", "app:-v1"}, `"app:-v1"`},
		{"lock bad digest", []string{"lock", "app@sha256:xyz"}, "bad digest"},
		{"lock tag and digest", []string{"lock", "app:v1@sha256:" + strings.Repeat("a", 64)}, "not both"},
		{"lock both delete flags", []string{"lock", "--delete", "--delete-only", "app"}, "exclude each other"},
		{"lock second ref bad", []string{"lock", "app", "app:"}, `"app:"`},

		{"lock-rules set without file", []string{"lock-rules", "set"}, "want one rules file"},
		{"lock-rules missing file", []string{"lock-rules", "set", filepath.Join(files, "none.json")}, "read lock rules"},
		{"lock-rules not an array", []string{"lock-rules", "set", file("obj.json", `{"tags": "v1"}`)}, "decode JSON"},
		{"lock-rules null", []string{"lock-rules", "set", file("null.json", `null`)}, "want a JSON array"},
		{"lock-rules unknown field", []string{"lock-rules", "set", file("lr-unknown.json", `[{"tag": "v1"}]`)}, `unknown field "tag"`},
		{"lock-rules bad regex", []string{"lock-rules", "set", file("lr-regex.json", `[{"repositories": "prod/.*"}, {"tags": "v[1"}]`)}, "lock rule 1"},
		{"lock-rules show argument", []string{"lock-rules", "show", "x"}, `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"-data", data}, tt.args...)
			code, stdout, stderr := regadm(t, args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data folder was created or touched: %v", err)
			}
		})
	}
}

// TestHelp: help and -h print usage and succeed.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"purge", "-h"}, {"lock", "--help"}, {"policy", "apply", "-h"}} {
		code, _, stderr := regadm(t, args...)
		if code != exitOK {
			t.Errorf("%v: exit status %d, want 0; stderr:\n%s", args, code, stderr)
		}
		if !strings.Contains(stderr, "usage: regadm") {
			t.Errorf("%v: no usage in stderr:\n%s", args, stderr)
		}
	}
	code, _, stderr := regadm(t, "help", "retention", "set")
	if code != exitOK || !strings.Contains(stderr, "usage: regadm [-data DIR] [-output text|json] retention set") || !strings.Contains(stderr, "-days") {
		t.Errorf("help retention set: exit status %d, stderr:\n%s", code, stderr)
	}
	_, _, stderr = regadm(t, "help")
	for _, c := range commands() {
		if !strings.Contains(stderr, c.name) {
			t.Errorf("usage lacks command %q", c.name)
		}
	}
}

// TestDataFolder: regadm opens only an existing data folder that no server
// holds, and says why it refuses one.
func TestDataFolder(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "nope")
		code, _, stderr := regadm(t, "-data", data, "lock", "app")
		if code != exitFailed || !strings.Contains(stderr, "data folder") {
			t.Errorf("exit status %d, stderr %q", code, stderr)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the data folder was created: %v", err)
		}
	})
	t.Run("not a data folder", func(t *testing.T) {
		data := t.TempDir()
		code, _, stderr := regadm(t, "-data", data, "lock", "app")
		if code != exitFailed || !strings.Contains(stderr, "is not a regkit data folder") {
			t.Errorf("exit status %d, stderr %q", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(data, metaFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("meta.db was created: %v", err)
		}
	})
	t.Run("a file", func(t *testing.T) {
		data := writeFile(t, "data", "")
		code, _, stderr := regadm(t, "-data", data, "lock", "app")
		if code != exitFailed || !strings.Contains(stderr, "not a directory") {
			t.Errorf("exit status %d, stderr %q", code, stderr)
		}
	})
	t.Run("held by a server", func(t *testing.T) {
		data, _ := newData(t, push{repo: "app", tag: "v1"})
		server, err := registry.Open(data)
		if err != nil {
			t.Fatal(err)
		}
		defer server.Close()
		for _, args := range [][]string{
			{"lock", "app"},
			{"retention", "show"},
			{"purge", "--filter", "app:.*", "--ago", "0d"},
		} {
			start := time.Now()
			code, stdout, stderr := regadm(t, append([]string{"-data", data}, args...)...)
			if code != exitFailed || !strings.Contains(stderr, "a server (such as registryd) holds") {
				t.Errorf("%v: exit status %d, stderr %q", args, code, stderr)
			}
			if stdout != "" {
				t.Errorf("%v: stdout %q", args, stdout)
			}
			// bbolt would wait a second for its lock: the check does not.
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("%v: refused after %v", args, d)
			}
		}
		// The server's view is unchanged: the repository is not locked.
		repo, err := server.Repository(context.Background(), "app")
		if err != nil {
			t.Fatal(err)
		}
		props, err := repo.Properties(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !props.Attributes.WriteEnabled {
			t.Error("the repository was locked while the server held the folder")
		}
	})
	t.Run("REGKIT_DATA", func(t *testing.T) {
		data, _ := newData(t, push{repo: "app", tag: "v1"})
		t.Setenv("REGKIT_DATA", data)
		if code, _, stderr := regadm(t, "lock", "app"); code != exitOK {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
		if attributes(t, data, ref{repo: "app"}).WriteEnabled {
			t.Error("REGKIT_DATA's folder was not changed")
		}
	})
}

// TestFlagsAnywhere: global flags go before or after the verb, a verb's
// flags before or after its arguments, and "--" ends flags.
func TestFlagsAnywhere(t *testing.T) {
	data, _ := newData(t, push{repo: "app", tag: "v1"}, push{repo: "web", tag: "v1"})
	for _, args := range [][]string{
		{"-data", data, "lock", "--delete", "app:v1"},
		{"lock", "app:v1", "-data", data, "--delete"},
		{"lock", "-data=" + data, "--delete", "--", "app:v1"},
	} {
		if code, _, stderr := regadm(t, args...); code != exitOK {
			t.Fatalf("%v: exit status %d: %s", args, code, stderr)
		}
		a := attributes(t, data, ref{repo: "app", tag: "v1"})
		if a.WriteEnabled || a.DeleteEnabled {
			t.Errorf("%v: app:v1 not locked: %+v", args, a)
		}
		if code, _, stderr := regadm(t, "-data", data, "unlock", "app:v1"); code != exitOK {
			t.Fatalf("unlock: exit status %d: %s", code, stderr)
		}
	}
	// After "--" a flag-like word is an argument (here: an invalid name).
	code, _, stderr := regadm(t, "-data", data, "lock", "--", "--delete")
	if code != exitUsage || !strings.Contains(stderr, `"--delete"`) {
		t.Errorf("exit status %d, stderr %q", code, stderr)
	}
}

// TestCancelled: a cancelled context stops a command before it opens the
// folder (status 1).
func TestCancelled(t *testing.T) {
	data, _ := newData(t, push{repo: "app", tag: "v1"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	if code := run(ctx, []string{"-data", data, "lock", "app"}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "context canceled") {
		t.Errorf("exit status %d, stderr %q", code, errb.String())
	}
	if !attributes(t, data, ref{repo: "app"}).WriteEnabled {
		t.Error("the repository was locked")
	}
}

// TestIsTerminal: buffers and regular files get no progress line.
func TestIsTerminal(t *testing.T) {
	if isTerminal(&strings.Builder{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
