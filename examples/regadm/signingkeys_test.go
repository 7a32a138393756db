package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/token"
)

func TestSigningKeys(t *testing.T) {
	dir, _ := newData(t)
	// A server holding the folder does not stop these verbs: hold it.
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if code, _, _ := regadm(t, "-data", dir, "token", "list"); code != 1 {
		t.Fatalf("token list on a held folder: exit %d, want 1", code)
	}

	code, out, _ := regadm(t, "-data", dir, "signing-key", "list")
	if code != 0 || !strings.Contains(out, "signs") {
		t.Fatalf("list: %d %q", code, out)
	}
	for i := 0; i < 2; i++ {
		if code, out, errs := regadm(t, "-data", dir, "signing-key", "rotate"); code != 0 {
			t.Fatalf("rotate: %d %q %q", code, out, errs)
		}
	}
	code, out, _ = regadm(t, "-data", dir, "--output", "json", "signing-key", "list")
	var keys []token.KeyInfo
	if err := json.Unmarshal([]byte(out), &keys); code != 0 || err != nil {
		t.Fatalf("list: %d %v %q", code, err, out)
	}
	if len(keys) != 3 || keys[0].Signing || keys[1].Signing || !keys[2].Signing {
		t.Fatalf("keys after two rotations: %+v", keys)
	}
	// The signer cannot go; a retired key can; an unknown id is bad usage.
	if code, _, _ := regadm(t, "-data", dir, "signing-key", "remove", keys[2].ID); code != 2 {
		t.Fatalf("remove the signer: exit %d, want 2", code)
	}
	if code, _, errs := regadm(t, "-data", dir, "signing-key", "remove", keys[0].ID); code != 0 {
		t.Fatalf("remove a retired key: %d %q", code, errs)
	}
	if code, _, _ := regadm(t, "-data", dir, "signing-key", "remove", "nope"); code != 2 {
		t.Fatalf("remove unknown: exit %d, want 2", code)
	}
	if code, _, _ := regadm(t, "-data", dir, "signing-key", "rotate", "--token-lifetime", "-1s"); code != 2 {
		t.Fatalf("negative lifetime: exit %d, want 2", code)
	}
}
