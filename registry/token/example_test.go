package token_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/httpapi"
	"github.com/regkit/regkit/registry/token"
)

// A registry behind the token service: the token endpoints and the
// registry's API on one mux, the Docker token flow with Basic credentials,
// then the API with the token.
func Example() {
	reg, err := registry.NewMemory()
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	svc, err := token.New(
		token.WithAuthority(token.Static{
			Users: map[string]token.StaticUser{
				"ci": {Password: "s3cret", Rights: map[string][]string{
					"team/*": {token.RightContentRead, token.RightContentWrite, token.RightMetadataRead},
				}},
			},
		}),
		// token.WithKeyDir(filepath.Join(dataDir, "keys")) keeps the keys.
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2/", svc.Handler())
	mux.Handle("/", httpapi.New(reg, httpapi.WithAuthorizer(svc.Authorizer())))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Without credentials, the API challenges.
	resp, err := http.Get(srv.URL + "/v2/team/app/tags/list")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate") != "")

	// The token endpoint grants what was asked and held: pull and push,
	// not delete.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/oauth2/token?scope=repository:team/app:pull,push,delete", nil)
	req.SetBasicAuth("ci", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var body struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		panic(err)
	}
	resp.Body.Close()
	claims, err := svc.Verify(body.Token, srv.Listener.Addr().String())
	if err != nil {
		panic(err)
	}
	fmt.Println(body.ExpiresIn, claims.Subject, claims.Access[0].Name, claims.Access[0].Actions)

	// With the token, the API answers (the repository is empty: 404).
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v2/team/app/tags/list", nil)
	req.Header.Set("Authorization", "Bearer "+body.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 401 true
	// 4500 ci team/app [pull push]
	// 404
}
