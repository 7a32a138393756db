package interop_test

import (
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/registrytest"
)

// TestStaticCredentialsGGCR pushes and pulls through go-containerregistry,
// which answers the Basic challenge with the credentials it is given.
func TestStaticCredentialsGGCR(t *testing.T) {
	users := map[string]string{"alice": "s3cret"}
	for _, anon := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymousPull=%v", anon), func(t *testing.T) {
			srv := registrytest.NewWith(t, registrytest.Options{
				HTTP: []httpapi.Option{httpapi.WithAuthorizer(httpapi.StaticCredentials("regkit", users, anon))},
			})
			img := randomImage(t, 5, 1)
			ref := ggcrRef(t, srv.Host, "team/app:v1")
			if err := remote.Write(ref, img); err == nil {
				t.Fatal("anonymous push succeeded")
			}
			alice := remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})
			if err := remote.Write(ref, img, alice); err != nil {
				t.Fatal(err)
			}
			_, err := remote.Image(ref)
			if anon != (err == nil) {
				t.Errorf("anonymous pull: %v", err)
			}
			got, err := remote.Image(ref, alice)
			if err != nil {
				t.Fatal(err)
			}
			sameImage(t, got, img)
		})
	}
}
