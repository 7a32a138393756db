package access_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
)

// A scope map with a wildcard, a token on it, a generated password, and
// the questions a token service asks: who is this, and what may they do.
func Example() {
	ctx := context.Background()
	reg, err := registry.NewMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	svc, err := access.New(ctx, reg)
	if err != nil {
		log.Fatal(err)
	}

	pull, _ := access.ParseRule("samples/*", "content/read")
	push, _ := access.ParseRule("samples/hello", "content/write,metadata/read")
	if _, err := svc.CreateScopeMap(ctx, access.ScopeMap{Name: "MyScopeMap", Rules: []access.Rule{pull, push}}); err != nil {
		log.Fatal(err)
	}
	if _, err := svc.CreateToken(ctx, "MyToken", "MyScopeMap", access.StatusEnabled); err != nil {
		log.Fatal(err)
	}
	password, err := svc.GeneratePassword(ctx, "MyToken", access.Password1, time.Now().Add(30*24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}

	subject, err := svc.Authenticate(ctx, "MyToken", password)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(subject)
	for _, repo := range []string{"samples/hello", "samples/nginx", "other", ""} {
		actions, _ := svc.Allowed(ctx, subject, repo)
		fmt.Printf("%q: %v\n", repo, actions)
	}
	_, err = svc.Authenticate(ctx, "MyToken", "guess")
	fmt.Println(err != nil)
	// Output:
	// token:MyToken
	// "samples/hello": [content/read content/write metadata/read]
	// "samples/nginx": [content/read]
	// "other": []
	// "": []
	// true
}
