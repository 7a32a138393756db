package internal

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowedModules are the only modules outside the standard library that the
// core packages (everything but examples and tests) may import. Adding one
// is a design decision: record why in docs/DESIGN.md.
var allowedModules = []string{
	"github.com/regkit/regkit",
	"github.com/opencontainers/go-digest",
	"github.com/opencontainers/image-spec",
	"github.com/klauspost/compress",
	"golang.org/x/sync",
	"golang.org/x/sys", // bbolt's own dependency
	"go.etcd.io/bbolt", // embedded metadata store
	// .NET-style regular expressions for acr purge's filters (policy):
	// lookarounds are common in real filters and Go's regexp lacks them.
	"github.com/dlclark/regexp2",
	// argon2id for token and admin password hashes (registry/access).
	"golang.org/x/crypto",
	// The Go ecosystem's registry client and copy engine, for import,
	// export and the oras-go target adapter (registry/target.go); it
	// depends only on go-digest, image-spec and x/sync.
	"oras.land/oras-go/v2",
	// JWT signing and verification for registry/token's access tokens
	// (no dependencies of its own).
	"github.com/golang-jwt/jwt/v5",
}

// TestDependencyFence fails when a non-test, non-example package of the
// module links anything beyond allowedModules.
func TestDependencyFence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Module", "github.com/regkit/regkit/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Standard   bool
		Module     *struct{ Path string }
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Standard || p.Module == nil {
			continue
		}
		if strings.HasPrefix(p.ImportPath, "github.com/regkit/regkit/examples") {
			continue
		}
		if !allowed(p.Module.Path) {
			t.Errorf("package %s comes from module %s, which is not in the dependency fence", p.ImportPath, p.Module.Path)
		}
	}
}

func allowed(mod string) bool {
	for _, a := range allowedModules {
		if mod == a {
			return true
		}
	}
	return false
}
