package registry_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/registrytest"
)

// craneBinary finds crane on PATH, or where the CI scripts keep their tools
// ($REGKIT_TOOLS/bin, by default ~/.cache/regkit-tools/bin); "" when absent.
func craneBinary() string {
	if p, err := exec.LookPath("crane"); err == nil {
		return p
	}
	tools := os.Getenv("REGKIT_TOOLS")
	if tools == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		tools = filepath.Join(home, ".cache", "regkit-tools")
	}
	p := filepath.Join(tools, "bin", "crane")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// TestImportFromCraneLayout imports a multi-arch image from a layout that
// `crane pull --format=oci` wrote, by the reference crane annotated and by
// digest, and finds the same graph as the registry crane pulled from.
func TestImportFromCraneLayout(t *testing.T) {
	crane := craneBinary()
	if crane == "" {
		t.Skip("crane is not installed")
	}
	ctx := context.Background()
	srv := registrytest.New(t)
	up := repoOf(t, srv.Registry, "lib/app").Target()
	idx, _ := multiArch(t, up, "v1")
	dir := filepath.Join(t.TempDir(), "layout")
	ref := srv.Host + "/lib/app:v1"
	out, err := exec.Command(crane, "pull", "--insecure", "--format=oci", "--annotate-ref", ref, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("crane pull: %v\n%s", err, out)
	}
	layout, err := registry.OpenLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := newMemReg(t)
	for target, srcRef := range map[string]string{"by/digest:v1": idx.Digest.String(), "by/ref:v1": ref} {
		res, err := reg.Import(ctx, layout, srcRef, target, registry.ImportOptions{})
		if err != nil {
			t.Fatalf("import %s from crane's layout: %v", srcRef, err)
		}
		if res.Descriptor.Digest != idx.Digest || res.Manifests != 3 {
			t.Fatalf("import %s from crane's layout: %+v", srcRef, res)
		}
		name := target[:strings.LastIndexByte(target, ':')]
		sameGraph(t, up, repoOf(t, reg, name).Target(), idx)
	}
	checkWhole(t, reg)
}
