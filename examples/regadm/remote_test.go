package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regkit/regkit/policy"
	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/tag"
)

// purgeArgs returns purge's flags for p.
func purgeArgs(p policy.Purge) []string {
	var args []string
	for _, f := range p.Filters {
		args = append(args, "--filter", f)
	}
	if p.Ago != "" {
		args = append(args, "--ago", p.Ago)
	}
	if p.Keep > 0 {
		args = append(args, "--keep", strconv.Itoa(p.Keep))
	}
	if p.Untagged {
		args = append(args, "--untagged")
	}
	if p.UntaggedOnly {
		args = append(args, "--untagged-only")
	}
	if p.IncludeLocked {
		args = append(args, "--include-locked")
	}
	return args
}

// remotePurgeJSON runs "regadm -registry URL -output json purge" and
// decodes its result.
func remotePurgeJSON(t *testing.T, url string, args ...string) *registry.PurgeResult {
	t.Helper()
	code, out, errs := regadmRemote(t, append([]string{"-registry", url, "-output", "json", "purge"}, args...)...)
	if code != exitOK {
		t.Fatalf("purge %v: exit %d: %s", args, code, errs)
	}
	var res registry.PurgeResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return &res
}

// TestRemotePurgeMatchesLocal: over -registry, dry run and real run decide
// and delete exactly what Registry.Purge decides and deletes on an
// identical registry, for several sets of acr purge's flags.
func TestRemotePurgeMatchesLocal(t *testing.T) {
	cases := []struct {
		name string
		p    policy.Purge
		// want names items the run must delete (a sanity check that the
		// fixture exercises the case).
		want []string
		// hide sets listEnabled=false on app:v2 and app@child-1, which the
		// API then lists only through app:v2's manifest and the index.
		hide bool
	}{
		{"tags and untagged", policy.Purge{Filters: []string{"app:.*"}, Ago: "30d", Untagged: true},
			[]string{"app:v1", "app:multi", "app@child-1", "app@sig-signed", "app@untagged-old"}, false},
		{"keep and lookahead", policy.Purge{Filters: []string{"app:^v", "other/.*:^(?!new$).*"}, Ago: "0d", Keep: 1},
			[]string{"app:v1", "other/svc:old"}, false},
		{"include locked", policy.Purge{Filters: []string{".*:.*"}, Ago: "30d", Untagged: true, IncludeLocked: true},
			[]string{"app:v0", "other/svc@svc-untagged", "keep-me:v1"}, false},
		{"untagged only", policy.Purge{Filters: []string{"app:.*", "other/svc:.*"}, Ago: "7d", UntaggedOnly: true},
			[]string{"app@untagged-old"}, false},
		{"hidden items", policy.Purge{Filters: []string{"app:.*"}, Ago: "30d", Untagged: true},
			[]string{"app:v2", "app@child-1"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			local, remote := newFixture(t), newFixture(t)
			if tc.hide {
				for _, f := range []*fixture{local, remote} {
					no := false
					f.at = remoteNow.Add(-40 * day)
					app := repoOf(t, f.reg, "app")
					if _, err := app.Tags().SetAttributes(ctx, "v2", tag.Patch{ListEnabled: &no}); err != nil {
						t.Fatal(err)
					}
					if _, err := app.Manifests().SetAttributes(ctx, f.digests["app@child-1"], tag.Patch{ListEnabled: &no}); err != nil {
						t.Fatal(err)
					}
					f.at = remoteNow
				}
			}
			if a, b := contents(t, local.reg), contents(t, remote.reg); !slices.Equal(a, b) {
				t.Fatalf("fixtures differ:\n%v\n%v", a, b)
			}
			srv := serve(t, remote.reg)
			pol := policy.Policy{Purge: &tc.p}

			wantDry, err := local.reg.Purge(ctx, pol, registry.PurgeOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			dry := remotePurgeJSON(t, srv.URL, append(purgeArgs(tc.p), "--dry-run")...)
			if !dry.DryRun || !dry.Time.Equal(remoteNow) {
				t.Errorf("dry run: dryRun=%t time=%s", dry.DryRun, dry.Time)
			}
			if a, b := decisionsOf(dry), decisionsOf(wantDry); !slices.Equal(a, b) {
				t.Errorf("dry-run plans differ:\nremote %s\nlocal  %s", strings.Join(a, "\n       "), strings.Join(b, "\n       "))
			}
			if a, b := itemsOf(dry.Deleted), itemsOf(wantDry.Deleted); !slices.Equal(a, b) {
				t.Errorf("dry run would delete\n%v\nlocal would delete\n%v", a, b)
			}
			if a, b := contents(t, remote.reg), contents(t, local.reg); !slices.Equal(a, b) {
				t.Fatal("the dry run changed the registry")
			}

			wantRes, err := local.reg.Purge(ctx, pol, registry.PurgeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res := remotePurgeJSON(t, srv.URL, append(purgeArgs(tc.p), "--concurrency", "3")...)
			if a, b := itemsOf(res.Deleted), itemsOf(wantRes.Deleted); !slices.Equal(a, b) {
				t.Errorf("remote deleted\n%v\nlocal deleted\n%v", a, b)
			}
			if len(res.Skipped) != 0 || len(wantRes.Skipped) != 0 {
				t.Errorf("skipped: remote %v, local %v", res.Skipped, wantRes.Skipped)
			}
			if res.Untagged != wantRes.Untagged {
				t.Errorf("untagged: remote %d, local %d", res.Untagged, wantRes.Untagged)
			}
			if a, b := itemsOf(res.Deleted), itemsOf(dry.Deleted); !slices.Equal(a, b) {
				t.Errorf("the run deleted %v, its dry run planned %v", a, b)
			}
			if a, b := contents(t, remote.reg), contents(t, local.reg); !slices.Equal(a, b) {
				t.Errorf("after the purge the registries differ:\nremote %s\nlocal  %s", strings.Join(a, "\n       "), strings.Join(b, "\n       "))
			}
			deleted := strings.Join(itemsOf(res.Deleted), "\n")
			for _, w := range tc.want {
				if !strings.Contains(deleted, describeKey(remote, w)) {
					t.Errorf("%s was not deleted; deleted:\n%s", w, deleted)
				}
			}
		})
	}
}

// describeKey turns a fixture key ("app:v1", "app@child-1") into the
// form itemsOf writes.
func describeKey(f *fixture, key string) string {
	if repo, _, ok := strings.Cut(key, "@"); ok {
		return fmt.Sprintf("%s manifest %s", repo, f.digests[key])
	}
	repo, tg, _ := strings.Cut(key, ":")
	return fmt.Sprintf("%s tag %s -> %s", repo, tg, f.digests[key])
}

// TestRemotePurgeText: the text output over -registry is the local one's
// table and summary.
func TestRemotePurgeText(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f.reg)
	code, out, errs := regadmRemote(t, "-registry", srv.URL, "purge", "--filter", "app:.*", "--ago", "30d", "--untagged", "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Dry run at 2025-06-01 12:00:00Z", "ACTION", "would delete  app", "v1 -> sha256:", "referrer of deleted", "Would delete"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = regadmRemote(t, "purge", "-registry", srv.URL, "--filter", "app:.*", "--ago", "30d", "--untagged")
	if code != exitOK || !strings.Contains(out, "deleted  ") || !strings.HasPrefix(lastLine(out), "Deleted ") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestRemotePurgeSkips: what changed between the snapshot and a deletion
// is skipped with the reason, and a 405 from the server is a skip.
func TestRemotePurgeSkips(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	moved := false
	// The server moves app:v1 to v2 and locks app:v2 right after the
	// first tag listing of app: after the snapshot, before the deletions.
	h := httpapi.New(f.reg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if !moved && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/acr/v1/app/_manifests") && !strings.Contains(r.URL.Path, "sha256") {
			moved = true
			repo := repoOf(t, f.reg, "app")
			if err := repo.Tags().Set(ctx, "v1", f.digests["app:v2"], registry.SetOptions{}); err != nil {
				t.Error(err)
			}
			no := false
			if _, err := repo.Tags().SetAttributes(ctx, "v2", tag.Patch{WriteEnabled: &no}); err != nil {
				t.Error(err)
			}
		}
	}))
	defer srv.Close()
	res := remotePurgeJSON(t, srv.URL, "--filter", "app:^v[12]$", "--ago", "30d")
	if len(res.Deleted) != 0 {
		t.Errorf("deleted %v", itemsOf(res.Deleted))
	}
	why := map[string]string{}
	for _, s := range res.Skipped {
		why[s.Tag] = s.Error
	}
	if !strings.Contains(why["v1"], "moved") || !strings.Contains(why["v2"], "locked since the snapshot") {
		t.Errorf("skips: %v", why)
	}
	if tg, err := repoOf(t, f.reg, "app").Tags().Properties(ctx, "v1"); err != nil || tg.Digest != f.digests["app:v2"] {
		t.Errorf("v1 after the purge: %v %v", tg.Digest, err)
	}

	// A refusal by the server is a skip: app is write-locked as a whole
	// after the snapshot.
	no := false
	locker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			if _, err := repoOf(t, f.reg, "other/svc").SetAttributes(ctx, tag.Patch{WriteEnabled: &no}); err != nil {
				t.Error(err)
			}
		}
		h.ServeHTTP(w, r)
	}))
	defer locker.Close()
	res = remotePurgeJSON(t, locker.URL, "--filter", "other/svc:old", "--ago", "30d")
	if len(res.Deleted) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Error, "405") {
		t.Errorf("deleted %v, skipped %+v", itemsOf(res.Deleted), res.Skipped)
	}
}

// TestRemoteLockUnlock: lock and unlock of repo, repo:tag and repo@digest
// over -registry, text and JSON, with a failure reported beside the rest.
func TestRemoteLockUnlock(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// Changes made through the server count as an hour before the purge
	// below evaluates.
	f.at = remoteNow.Add(-time.Hour)
	srv := serve(t, f.reg)
	d := f.digests["app:v2"]
	code, out, errs := regadmRemote(t, "-registry", srv.URL, "lock", "--delete", "app:v1", "app@"+d.String(), "other/svc")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "locked tag app:v1: writeEnabled=false deleteEnabled=false") {
		t.Errorf("output: %s", out)
	}
	app := repoOf(t, f.reg, "app")
	tp, _ := app.Tags().Properties(ctx, "v1")
	mp, _ := app.Manifests().Properties(ctx, d)
	rp, _ := repoOf(t, f.reg, "other/svc").Properties(ctx)
	for name, a := range map[string]tag.Attributes{"tag": tp.Attributes, "manifest": mp.Attributes, "repository": rp.Attributes} {
		if a.WriteEnabled || a.DeleteEnabled {
			t.Errorf("%s not locked: %+v", name, a)
		}
	}
	// A locked tag cannot be deleted over the API either.
	res := remotePurgeJSON(t, srv.URL, "--filter", "app:^v1$", "--ago", "0d")
	if len(res.Deleted) != 0 {
		t.Errorf("purge of a locked tag deleted %v", itemsOf(res.Deleted))
	}
	for _, d := range res.Plans[0].Decisions {
		if d.Tag == "v1" && d.Reason.Code != policy.ReasonLocked {
			t.Errorf("v1: %s", d.Reason)
		}
	}

	code, out, errs = regadmRemote(t, "-registry", srv.URL, "-output", "json", "unlock", "app:v1", "app:nosuch", "other/svc")
	if code != exitFailed || !strings.Contains(errs, "app:nosuch") || !strings.Contains(errs, "404") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	var got []lockResult
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 || !got[0].Attributes.WriteEnabled || !got[1].Attributes.DeleteEnabled {
		t.Errorf("JSON %s: %v", out, err)
	}
	tp, _ = app.Tags().Properties(ctx, "v1")
	if !tp.Attributes.WriteEnabled || !tp.Attributes.DeleteEnabled {
		t.Errorf("v1 still locked: %+v", tp.Attributes)
	}
	code, _, errs = regadmRemote(t, "-registry", srv.URL, "lock", "--delete-only", "app:v2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tp, _ = app.Tags().Properties(ctx, "v2")
	if !tp.Attributes.WriteEnabled || tp.Attributes.DeleteEnabled {
		t.Errorf("--delete-only: %+v", tp.Attributes)
	}
}

// TestRemoteCredentials: Basic credentials from the flags, from
// $REGKIT_PASSWORD and from a Docker config file; none or wrong ones fail.
func TestRemoteCredentials(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f.reg, httpapi.WithAuthorizer(httpapi.StaticCredentials("regkit", map[string]string{"admin": "s3cret"}, false)))
	purge := []string{"-registry", srv.URL, "purge", "--filter", "app:^v1$", "--ago", "30d", "--dry-run"}

	code, _, errs := regadmRemote(t, purge...)
	if code != exitFailed || !strings.Contains(errs, "asks for credentials") {
		t.Errorf("no credentials: exit %d: %s", code, errs)
	}
	code, _, errs = regadmRemote(t, append(purge, "--username", "admin", "--password", "wrong")...)
	if code != exitFailed || !strings.Contains(errs, "401") {
		t.Errorf("wrong password: exit %d: %s", code, errs)
	}
	code, out, errs := regadmRemote(t, append(purge, "--username", "admin", "--password", "s3cret")...)
	if code != exitOK || !strings.Contains(out, "Would delete 1 tag") {
		t.Errorf("flags: exit %d: %s%s", code, out, errs)
	}
	code, _, errs = regadmRemote(t, append(purge, "--password", "s3cret")...)
	if code != exitUsage || !strings.Contains(errs, "without --username") {
		t.Errorf("password alone: exit %d: %s", code, errs)
	}

	// The Docker config file's entry for the server's host.
	host := strings.TrimPrefix(srv.URL, "http://")
	auth := base64.StdEncoding.EncodeToString([]byte("admin:s3cret"))
	cfg := writeFile(t, "config.json", `{"auths": {"`+host+`": {"auth": "`+auth+`"}}}`)
	code, out, errs = regadmRemote(t, append(purge, "--docker-config", cfg)...)
	if code != exitOK || !strings.Contains(out, "Would delete 1 tag") {
		t.Errorf("docker config: exit %d: %s%s", code, out, errs)
	}

	t.Setenv("REGKIT_PASSWORD", "s3cret")
	code, _, errs = regadmRemote(t, "-registry", srv.URL, "--username", "admin", "lock", "app:v1")
	if code != exitOK {
		t.Errorf("REGKIT_PASSWORD: exit %d: %s", code, errs)
	}
}

// TestRemoteErrors: a bad URL or two sources are usage errors (exit 2); an
// unreachable server or one without the API fail (exit 1); verbs that
// need a data folder refuse -registry.
func TestRemoteErrors(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	notAPI := httptest.NewServer(http.NotFoundHandler())
	defer notAPI.Close()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	purge := []string{"purge", "--filter", "a:.*", "--ago", "1d"}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{append([]string{"-registry", "ftp://host"}, purge...), exitUsage, "want an http:// or https:// URL"},
		{append([]string{"-registry", "http://"}, purge...), exitUsage, "no host"},
		{append([]string{"-registry", "http://host/path"}, purge...), exitUsage, "only scheme, host and port"},
		{append([]string{"-registry", "http://u:p@host"}, purge...), exitUsage, "not in the URL"},
		{append([]string{"-registry", deadURL, "-data", dir}, purge...), exitUsage, "-data and -registry exclude each other"},
		{append(append([]string{"-data", dir}, purge...), "-registry", deadURL), exitUsage, "exclude each other"},
		{append([]string{"-registry", deadURL}, purge...), exitFailed, "connection refused"},
		{append([]string{"-registry", notAPI.URL}, purge...), exitFailed, "does not serve ACR's API (/acr/v1/), which -registry needs: GET /acr/v1/_catalog: 404"},
		{[]string{"-registry", deadURL, "lock", "app:v1"}, exitFailed, "connection refused"},
		{[]string{"-registry", deadURL, "retention", "show"}, exitUsage, "retention show needs -data"},
		{[]string{"-registry", deadURL, "token", "list"}, exitUsage, "token list needs -data"},
		{[]string{"scope-map", "list", "-registry", deadURL}, exitUsage, "needs -data"},
		{[]string{"-registry", deadURL, "import", "oci:x", "app"}, exitUsage, "import needs -data"},
		{[]string{"-registry", deadURL, "policy", "apply", writeFile(t, "p.json", `{"untaggedRetention": {"days": 1}}`)}, exitUsage, "untaggedRetention\" needs -data"},
		{append([]string{"-registry", deadURL, "--concurrency", "99"}, purge...), exitUsage, "flag provided but not defined"},
		{append([]string{"-registry", deadURL}, append(purge, "--concurrency", "99")...), exitUsage, "want 1 to 32"},
	}
	for _, tc := range cases {
		code, _, errs := regadmRemote(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("regadm %v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errs, tc.want)
		}
	}
}

// TestRemotePolicyApply: policy apply over -registry runs a purge policy
// read from JSON.
func TestRemotePolicyApply(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f.reg)
	file := writeFile(t, "p.json", `{"purge": {"filters": ["other/svc:.*"], "ago": "30d"}, "keep": [{"tags": "^old$"}]}`)
	code, out, errs := regadmRemote(t, "-registry", srv.URL, "policy", "apply", file, "--dry-run", "--verbose")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "protected by keep rule") || !strings.Contains(lastLine(out), "Would delete 0 tags") {
		t.Errorf("output:\n%s", out)
	}
}

// TestRemoteHelp: help of a remote verb says what differs over -registry.
func TestRemoteHelp(t *testing.T) {
	_, _, errs := regadmRemote(t, "help", "purge")
	if !strings.Contains(errs, "no last-pull times") || !strings.Contains(errs, "-registry") || !strings.Contains(errs, "-username") {
		t.Errorf("help purge:\n%s", errs)
	}
	_, _, errs = regadmRemote(t, "help", "retention", "show")
	if !strings.Contains(errs, "Needs a data folder") || strings.Contains(errs, "-username") {
		t.Errorf("help retention show:\n%s", errs)
	}
}

// TestRemoteBearer: a server that answers with Bearer challenges gets a
// token from the realm (Basic credentials there) and the purge and lock
// go through with it.
func TestRemoteBearer(t *testing.T) {
	f := newFixture(t)
	f.at = remoteNow.Add(-time.Hour)
	var (
		mu     sync.Mutex
		scopes []string
	)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		scopes = append(scopes, r.URL.Query()["scope"]...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token": "good", "expires_in": 300}`))
	})
	mux.Handle("/", httpapi.New(f.reg, httpapi.WithAuthorizer(httpapi.BearerChallenge(srv.URL+"/oauth2/token", "regkit",
		func(_ context.Context, token string, _ httpapi.Access) error {
			if token != "good" {
				return errors.New("bad token")
			}
			return nil
		}))))
	res := remotePurgeJSON(t, srv.URL, "--filter", "app:^v1$", "--ago", "30d", "--username", "admin", "--password", "s3cret")
	if got := itemsOf(res.Deleted); len(got) != 1 || !strings.Contains(got[0], "tag v1") {
		t.Errorf("deleted %v, skipped %v", got, res.Skipped)
	}
	code, _, errs := regadmRemote(t, "-registry", srv.URL, "--username", "admin", "--password", "s3cret", "lock", "app:v2")
	if code != exitOK {
		t.Errorf("lock: exit %d: %s", code, errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(scopes) == 0 {
		t.Error("no token was asked for")
	}
	code, _, errs = regadmRemote(t, "-registry", srv.URL, "--username", "admin", "--password", "wrong", "lock", "app:v2")
	if code != exitFailed || !strings.Contains(errs, "401") {
		t.Errorf("wrong password: exit %d: %s", code, errs)
	}
}

// TestRemoteDanglingReferrer: a referrer whose subject the repository does
// not hold is not known as one from the listings; the dry run lists it,
// the real run reads it before deleting it and skips it.
func TestRemoteDanglingReferrer(t *testing.T) {
	f := newFixture(t)
	f.at = remoteNow.Add(-10 * day)
	other := pushSeeded(t, f.reg, "keep-me", "", "elsewhere")
	ref := pushReferrerTo(t, f.reg, "dangle", other, 100, "dangling")
	f.at = remoteNow
	srv := serve(t, f.reg)
	args := []string{"--filter", "dangle:.*", "--ago", "1d", "--untagged-only"}
	dry := remotePurgeJSON(t, srv.URL, append(args, "--dry-run")...)
	if got := itemsOf(dry.Deleted); len(got) != 1 || !strings.Contains(got[0], ref.String()) {
		t.Errorf("dry run: %v", got)
	}
	res := remotePurgeJSON(t, srv.URL, args...)
	if len(res.Deleted) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Error, "referrer of "+other.String()) {
		t.Errorf("deleted %v, skipped %+v", itemsOf(res.Deleted), res.Skipped)
	}
	if _, err := repoOf(t, f.reg, "dangle").Manifests().Properties(context.Background(), ref); err != nil {
		t.Errorf("the referrer went: %v", err)
	}
}
