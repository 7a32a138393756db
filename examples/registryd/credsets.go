package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/regkit/regkit/registry"
)

// credentialSets resolves the credential sets that cache rules name
// (regadm cache-rule create --cred-set NAME) from a folder laid out as
// mounted secrets are: DIR/NAME/username and DIR/NAME/password, one value
// each (a trailing newline is dropped). The files are read at each use, so
// a rotated secret takes effect on the next upstream request without a
// restart. Reads go through os.Root: a set's name cannot reach outside the
// folder, by "..", an absolute path or a symbolic link.
func credentialSets(dir string) registry.CacheCredentialFunc {
	return func(_ context.Context, name string) (string, string, error) {
		if name == "" || name != path.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return "", "", fmt.Errorf("credential set %q: not a plain name", name)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return "", "", fmt.Errorf("credential sets folder: %w", err)
		}
		defer root.Close()
		read := func(file string) (string, error) {
			b, err := root.ReadFile(name + "/" + file)
			if err != nil {
				return "", fmt.Errorf("credential set %q: %w", name, err)
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		user, err := read("username")
		if err != nil {
			return "", "", err
		}
		pass, err := read("password")
		if err != nil {
			return "", "", err
		}
		return user, pass, nil
	}
}
