package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regkit/regkit/registry"
	"github.com/regkit/regkit/registry/access"
	"github.com/regkit/regkit/registry/token"
)

// credentials builds the token service and says which mode the server runs
// in, for its first log line.
//
// With -admin-user or -anonymous-pull, or when the data folder already has
// an admin user or a token (made with regadm), requests are checked against
// the access model (registry/access). Otherwise the registry is open: every
// caller may do everything. Even open, a write or an /acr/v1/ request
// without credentials is answered with a Bearer challenge, and the token
// endpoint grants an anonymous token for any scope: clients (docker, oras,
// crane, the Azure SDK) follow the challenge on their own, and a client
// that probes with a body-less request first (the Azure SDK does) never has
// that probe taken as a write. Reads need no token.
func credentials(ctx context.Context, c config, reg *registry.Registry) (*token.Service, string, error) {
	opts := []token.Option{token.WithKeyDir(filepath.Join(c.data, "keys"))}
	if c.tokenLifetime > 0 {
		opts = append(opts, token.WithLifetime(c.tokenLifetime))
	}
	acc, err := access.New(ctx, reg)
	if err != nil {
		return nil, "", err
	}
	if c.adminUser != "" {
		if err := acc.SetAdmin(ctx, c.adminUser, os.Getenv("REGKIT_ADMIN_PASSWORD")); err != nil {
			return nil, "", fmt.Errorf("-admin-user: %w", err)
		}
	}
	if c.anonymousPull != nil {
		if err := acc.SetAnonymousPull(ctx, *c.anonymousPull); err != nil {
			return nil, "", fmt.Errorf("-anonymous-pull: %w", err)
		}
	}
	closed, why, err := configured(ctx, acc, c)
	if err != nil {
		return nil, "", err
	}
	mode := "registryd open: no credentials are configured, so anyone may pull, push and delete " +
		"(writes and /acr/v1/ take an anonymous token from /oauth2/token, which clients fetch on their own)"
	if closed {
		opts = append(opts, token.WithAuthority(acc.StringAuthority()))
		mode = "registryd checks credentials (" + why + "): the admin user and tokens made with regadm"
	} else {
		opts = append(opts, token.WithAuthority(token.Open()))
	}
	svc, err := token.New(opts...)
	if err != nil {
		return nil, "", err
	}
	return svc, mode, nil
}

// configured reports whether the access model is in use, and why.
func configured(ctx context.Context, acc *access.Service, c config) (bool, string, error) {
	var why []string
	if c.adminUser != "" {
		why = append(why, "-admin-user")
	} else if a, err := acc.Admin(ctx); err != nil {
		return false, "", err
	} else if a.Enabled {
		why = append(why, "an admin user is stored")
	}
	if c.anonymousPull != nil {
		why = append(why, "-anonymous-pull")
	}
	toks, err := acc.Tokens(ctx)
	if err != nil {
		return false, "", err
	}
	if len(toks) > 0 {
		why = append(why, fmt.Sprintf("%d tokens are stored", len(toks)))
	}
	if len(why) == 0 {
		return false, "", nil
	}
	return true, strings.Join(why, ", "), nil
}
