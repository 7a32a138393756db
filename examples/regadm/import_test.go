package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
)

// TestExportImport exports an image as a layout folder and a tar, imports
// both into another data folder, imports from a data folder and over HTTP,
// and checks the rules on the way.
func TestExportImport(t *testing.T) {
	src, p := newData(t, push{repo: "lib/app", tag: "v1"})
	want := p.find(t, "lib/app", "v1").digest
	dst, _ := newData(t)
	out := t.TempDir()
	layoutDir := filepath.Join(out, "layout")
	tarFile := filepath.Join(out, "app.tar")

	for _, target := range []string{layoutDir, tarFile} {
		if code, _, stderr := regadm(t, "-data", src, "export", "lib/app:v1", target); code != exitOK {
			t.Fatalf("export to %s: %d %s", target, code, stderr)
		}
	}
	cases := []struct{ source, target string }{
		{"oci:" + layoutDir + ":v1", "from/layout"},
		{"oci:" + layoutDir, "from/only-tag:latest"},
		{"oci-archive:" + tarFile + ":v1", "from/tar"},
		{"oci-archive:" + tarFile + "@" + want.String(), "from/digest:d1"},
		{"regkit:" + src + "/lib/app:v1", "from/regkit"},
	}
	for _, c := range cases {
		code, stdout, stderr := regadm(t, "-data", dst, "-output", "json", "import", c.source, c.target)
		if code != exitOK {
			t.Fatalf("import %s: %d %s", c.source, code, stderr)
		}
		var res registry.ImportResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Descriptor.Digest != want {
			t.Fatalf("import %s: %s (%v)", c.source, stdout, err)
		}
	}
	if got := tags(t, dst, "from/layout"); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("from/layout tags = %v, want the source tag", got)
	}

	code, _, stderr := regadm(t, "-data", dst, "import", "oci:"+layoutDir+":v1", "from/layout")
	if code != exitFailed || !strings.Contains(stderr, "exists") {
		t.Fatalf("import onto an existing tag: %d %s", code, stderr)
	}
	code, stdout, stderr := regadm(t, "-data", dst, "import", "--force", "oci:"+layoutDir+":v1", "from/layout")
	if code != exitOK || !strings.Contains(stdout, "0 transferred") {
		t.Fatalf("forced re-import: %d %s %s", code, stdout, stderr)
	}
	for _, bad := range [][]string{
		{"import", "only-one"},
		{"import", "oci:x", "Bad/Name"},
		{"import", "--platform", "nope", "oci:x", "y"},
		{"import", "--password", "p", "host/x:1", "y"},
		{"export", "lib/app", filepath.Join(out, "x")},
	} {
		if code, _, stderr := regadm(t, append([]string{"-data", dst}, bad...)...); code != exitUsage {
			t.Errorf("%v: status %d, want %d (%s)", bad, code, exitUsage, stderr)
		}
	}

	srv := registrytest.New(t)
	withReg(t, src, func(reg *registry.Registry) {
		repo, err := reg.Repository(context.Background(), "lib/app")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Registry.Import(context.Background(), repo.Target(), "v1", "remote/app", registry.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	code, stdout, stderr = regadm(t, "-data", dst, "import", "--plain-http", "--docker-config", "", srv.Host+"/remote/app:v1", "from/http")
	if code != exitOK || !strings.Contains(stdout, "from/http:v1@"+want.String()) {
		t.Fatalf("import over HTTP: %d %s %s", code, stdout, stderr)
	}
}
