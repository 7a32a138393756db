package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
)

const day = 24 * time.Hour

// purgeData is the folder the purge tests start from: in app, v1 and v2
// (old), latest (old), v3 (new) and one old manifest never tagged; in web,
// one old tag.
func purgeData(t *testing.T) (string, pushed) {
	t.Helper()
	return newData(t,
		push{repo: "app", tag: "v1", age: 11 * day},
		push{repo: "app", tag: "v2", age: 10 * day},
		push{repo: "app", tag: "latest", age: 10 * day},
		push{repo: "app", tag: "", age: 10 * day},
		push{repo: "app", tag: "v3", age: time.Hour},
		push{repo: "web", tag: "v1", age: 10 * day},
	)
}

// purgeJSON runs regadm with --output json and decodes the result.
func purgeJSON(t *testing.T, args ...string) *registry.PurgeResult {
	t.Helper()
	code, stdout, stderr := regadm(t, append([]string{"-output", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("%v: exit status %d: %s", args, code, stderr)
	}
	var res registry.PurgeResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: output is not a PurgeResult: %v\n%s", args, err, stdout)
	}
	return &res
}

// deleted lists the result's deletions as "repo:tag" and "repo@digest".
func deleted(res *registry.PurgeResult) []string {
	var out []string
	for _, it := range res.Deleted {
		if it.Kind == policy.KindTag {
			out = append(out, it.Repository+":"+it.Tag)
		} else {
			out = append(out, it.Repository+"@"+it.Digest.String())
		}
	}
	slices.Sort(out)
	return out
}

// tagReason finds the plan's reason for repo:name.
func tagReason(res *registry.PurgeResult, repo, name string) policy.Reason {
	for _, p := range res.Plans {
		for _, d := range p.Decisions {
			if p.Repository == repo && d.Kind == policy.KindTag && d.Tag == name {
				return d.Reason
			}
		}
	}
	return policy.Reason{}
}

func TestPurge(t *testing.T) {
	tests := []struct {
		name  string
		setup [][]string // regadm runs before the purge
		args  []string
		// want: tags left in app and web, and what was deleted ("@NAME"
		// stands for the digest of app:NAME, "@untagged" for the manifest
		// pushed without a tag).
		app, web []string
		gone     []string
		// why: the reason code of app's tags in the plan, where it matters.
		why map[string]policy.ReasonCode
		// unlocked: deletions that unlocked first (--include-locked).
		unlocked []string
	}{
		{
			name: "filter and ago",
			args: []string{"--filter", "app:^v", "--ago", "5d"},
			app:  []string{"latest", "v3"}, web: []string{"v1"},
			gone: []string{"app:v1", "app:v2"},
		},
		{
			name: "two filters combine with OR",
			args: []string{"--filter", "app:^v1$", "--filter", "web:.*", "--ago", "5d"},
			app:  []string{"latest", "v2", "v3"}, web: nil,
			gone: []string{"app:v1", "web:v1"},
		},
		{
			name: "lookaround filter",
			args: []string{"--filter", "app:^(?!latest$).*", "--ago", "0d"},
			app:  []string{"latest"}, web: []string{"v1"},
			gone: []string{"app:v1", "app:v2", "app:v3"},
		},
		{
			name: "keep",
			args: []string{"--filter", "app:^v", "--ago", "5d", "--keep", "1"},
			app:  []string{"latest", "v2", "v3"}, web: []string{"v1"},
			gone: []string{"app:v1"},
		},
		{
			name: "untagged",
			args: []string{"--filter", "app:^v", "--ago", "5d", "--untagged"},
			app:  []string{"latest", "v3"}, web: []string{"v1"},
			gone: []string{"app:v1", "app:v2", "@v1", "@v2", "@untagged"},
		},
		{
			name: "untagged only",
			args: []string{"--untagged-only", "--ago", "5d"},
			app:  []string{"latest", "v1", "v2", "v3"}, web: []string{"v1"},
			gone: []string{"@untagged"},
		},
		{
			name:  "locked tag stays",
			setup: [][]string{{"lock", "app:v1"}},
			// Locking updates the tag: --ago 0d makes it old enough.
			args: []string{"--filter", "app:^v[12]$", "--ago", "0d"},
			app:  []string{"latest", "v1", "v3"}, web: []string{"v1"},
			gone: []string{"app:v2"},
			why:  map[string]policy.ReasonCode{"v1": policy.ReasonLocked, "v2": policy.ReasonFilter},
		},
		{
			name:  "include locked",
			setup: [][]string{{"lock", "--delete", "app:v1"}},
			args:  []string{"--filter", "app:^v[12]$", "--ago", "0d", "--include-locked"},
			app:   []string{"latest", "v3"}, web: []string{"v1"},
			gone:     []string{"app:v1", "app:v2"},
			why:      map[string]policy.ReasonCode{"v1": policy.ReasonFilter},
			unlocked: []string{"app:v1"},
		},
		{
			name:  "locked repository",
			setup: [][]string{{"lock", "app"}},
			args:  []string{"--filter", "app:.*", "--ago", "5d", "--include-locked"},
			app:   []string{"latest", "v1", "v2", "v3"}, web: []string{"v1"},
			why: map[string]policy.ReasonCode{"v1": policy.ReasonRepositoryLocked, "latest": policy.ReasonRepositoryLocked},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, imgs := purgeData(t)
			for _, s := range tt.setup {
				if code, _, stderr := regadm(t, append([]string{"-data", data}, s...)...); code != exitOK {
					t.Fatalf("%v: exit status %d: %s", s, code, stderr)
				}
			}
			var want []string
			for _, g := range tt.gone {
				if name, ok := strings.CutPrefix(g, "@"); ok {
					if name == "untagged" {
						name = ""
					}
					g = "app@" + imgs.find(t, "app", name).digest.String()
				}
				want = append(want, g)
			}
			slices.Sort(want)

			// The dry run plans exactly what the run then deletes.
			dry := purgeJSON(t, append([]string{"-data", data, "purge", "--dry-run"}, tt.args...)...)
			if !dry.DryRun {
				t.Error("dry run result says DryRun false")
			}
			if got := tags(t, data, "app"); !slices.Equal(got, []string{"latest", "v1", "v2", "v3"}) {
				t.Fatalf("the dry run changed app's tags: %v", got)
			}
			res := purgeJSON(t, append([]string{"-data", data, "purge"}, tt.args...)...)
			if got := deleted(res); !slices.Equal(got, want) {
				t.Errorf("deleted %v, want %v", got, want)
			}
			if got := deleted(dry); !slices.Equal(got, want) {
				t.Errorf("dry run planned %v, want %v", got, want)
			}
			for name, code := range tt.why {
				if got := tagReason(res, "app", name); got.Code != code {
					t.Errorf("app:%s: reason %+v, want %s", name, got, code)
				}
			}
			var unlocked []string
			for _, it := range res.Deleted {
				if it.Unlock {
					unlocked = append(unlocked, it.Repository+":"+it.Tag)
				}
			}
			if !slices.Equal(unlocked, tt.unlocked) {
				t.Errorf("unlocked %v, want %v", unlocked, tt.unlocked)
			}
			if len(res.Skipped) != 0 {
				t.Errorf("skipped: %+v", res.Skipped)
			}
			if got := tags(t, data, "app"); !slices.Equal(got, tt.app) {
				t.Errorf("app's tags %v, want %v", got, tt.app)
			}
			if got := tags(t, data, "web"); !slices.Equal(got, tt.web) {
				t.Errorf("web's tags %v, want %v", got, tt.web)
			}
		})
	}
}

// TestPurgeText: the table names what went and why, and the summary
// counts it.
func TestPurgeText(t *testing.T) {
	data, _ := purgeData(t)
	code, stdout, stderr := regadm(t, "-data", data, "purge", "--filter", "app:^v", "--ago", "5d", "--dry-run", "--verbose")
	if code != exitOK {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Dry run at ",
		"would delete app tag v1 -> sha256:",
		"would delete app tag v2 -> sha256:",
		"matched filter app:^v, updated ",
		"kept app tag v3 -> sha256:",
		"kept app tag latest -> sha256:",
		"Would delete 2 tags and 0 manifests in 1 repository; 2 manifests lost their last tag.",
	} {
		if !strings.Contains(strings.Join(fields(stdout), "\n"), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = regadm(t, "-data", data, "purge", "--filter", "app:^v", "--ago", "5d")
	if code != exitOK {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Deleted 2 tags and 0 manifests in 1 repository") || strings.Contains(stdout, "kept") {
		t.Errorf("output:\n%s", stdout)
	}
	if stderr != "" {
		t.Errorf("stderr (no terminal: no progress line): %q", stderr)
	}
}

func TestPolicyApply(t *testing.T) {
	data, _ := purgeData(t)
	file := writeFile(t, "policy.json", `{
		"purge": {"filters": ["app:^v", "web:.*"], "ago": "5d"},
		"keep": [{"repositories": "app", "tags": "^v1$"}]
	}`)
	code, stdout, stderr := regadm(t, "-data", data, "policy", "apply", file, "--dry-run", "--verbose")
	if code != exitOK {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "protected by keep rule") || !strings.Contains(stdout, "Would delete 2 tags") {
		t.Errorf("dry run output:\n%s", stdout)
	}
	res := purgeJSON(t, "-data", data, "policy", "apply", "--concurrency", "2", file)
	if got, want := deleted(res), []string{"app:v2", "web:v1"}; !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if got := tags(t, data, "app"); !slices.Equal(got, []string{"latest", "v1", "v3"}) {
		t.Errorf("app's tags: %v", got)
	}
}

// TestPurgeReferrer: a signature goes with its image, and the table says
// so.
func TestPurgeReferrer(t *testing.T) {
	data, imgs := newData(t, push{repo: "app", tag: "v1", age: 10 * day})
	subject := imgs.find(t, "app", "v1").digest
	var sig digest.Digest
	withReg(t, data, func(reg *registry.Registry) {
		ctx := context.Background()
		repo := repoOf(t, reg, "app")
		desc, err := repo.Manifests().Stat(ctx, subject.String(), registry.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		empty := []byte("{}")
		if _, err := repo.Blobs().Put(ctx, digest.FromBytes(empty), 2, bytes.NewReader(empty)); err != nil {
			t.Fatal(err)
		}
		m := ocispec.Manifest{
			Versioned:    specs.Versioned{SchemaVersion: 2},
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: "application/vnd.example.signature",
			Config:       ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON, Digest: digest.FromBytes(empty), Size: 2},
			Layers:       []ocispec.Descriptor{{MediaType: ocispec.MediaTypeEmptyJSON, Digest: digest.FromBytes(empty), Size: 2}},
			Subject:      &desc,
		}
		b, _ := json.Marshal(m)
		d, err := repo.Manifests().Put(ctx, b, registry.PutOptions{MediaType: ocispec.MediaTypeImageManifest})
		if err != nil {
			t.Fatal(err)
		}
		sig = d.Digest
	})
	code, stdout, stderr := regadm(t, "-data", data, "purge", "--filter", "app:.*", "--ago", "0d", "--untagged")
	if code != exitOK {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	out := strings.Join(fields(stdout), "\n")
	for _, want := range []string{
		"deleted app tag v1 -> " + shortDigest(subject) + " matched filter app:.*",
		"deleted app manifest " + shortDigest(subject) + " no tags left",
		"deleted app manifest " + shortDigest(sig) + " referrer of deleted " + shortDigest(subject),
		"Deleted 1 tag and 2 manifests in 1 repository",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}
