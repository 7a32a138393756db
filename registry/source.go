package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"oras.land/oras-go/v2/content/oci"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// RemoteOptions configure NewRemote: the transport and the credentials.
// With neither Username nor DockerConfig the source is read anonymously
// (oras-go's auth client still fetches an anonymous Bearer token when the
// registry asks for one).
type RemoteOptions struct {
	// PlainHTTP talks HTTP instead of HTTPS, for a registry without TLS.
	PlainHTTP bool
	// Username and Password are Basic credentials, also used for the Bearer
	// token flow. A Username of "" with a Password is an identity (refresh)
	// token, as docker login stores one.
	Username, Password string
	// DockerConfig reads the credentials from a Docker config file (its
	// auths and credential helpers) when Username and Password are empty:
	// the file at this path, or Docker's default location when it is "-".
	DockerConfig string
	// HTTPClient is the underlying client; by default oras-go's retrying
	// client (retries with back-off on 429 and 5xx).
	HTTPClient *http.Client
	// Configure, when set, adjusts the repository and its auth client
	// before use (page sizes, headers, a realm policy for the Bearer flow).
	Configure func(*remote.Repository, *auth.Client)
}

// NewRemote returns the repository of ref ("host[:port]/repository" with an
// optional ":tag" or "@digest") on a registry served over the distribution
// API, as an import source, and ref's tag or digest ("" when it has none).
func NewRemote(ref string, opts RemoteOptions) (*remote.Repository, string, error) {
	r, err := orasreg.ParseReference(ref)
	if err != nil {
		return nil, "", errorf(ErrInvalid, "remote reference %q: %w", ref, err)
	}
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, "", errorf(ErrInvalid, "remote reference %q: %w", ref, err)
	}
	repo.PlainHTTP = opts.PlainHTTP
	hc := opts.HTTPClient
	if hc == nil {
		hc = retry.DefaultClient
	}
	client := &auth.Client{Client: hc, Cache: auth.NewCache()}
	client.SetUserAgent("regkit")
	switch {
	case opts.Username != "" || opts.Password != "":
		cred := auth.Credential{Username: opts.Username, Password: opts.Password}
		if opts.Username == "" {
			cred = auth.Credential{RefreshToken: opts.Password}
		}
		client.Credential = auth.StaticCredential(r.Registry, cred)
	case opts.DockerConfig != "":
		var store credentials.Store
		if opts.DockerConfig == "-" {
			store, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
		} else {
			store, err = credentials.NewStore(opts.DockerConfig, credentials.StoreOptions{})
		}
		if err != nil {
			return nil, "", fmt.Errorf("registry: docker config: %w", err)
		}
		client.Credential = credentials.Credential(store)
	}
	repo.Client = client
	if opts.Configure != nil {
		opts.Configure(repo, client)
	}
	return repo, r.Reference, nil
}

// OpenLayout opens an OCI image layout, a folder or a tar archive of one,
// read-only, as an import source (oras-go's content/oci). Its tags are the
// org.opencontainers.image.ref.name annotations of index.json.
func OpenLayout(ctx context.Context, path string) (*oci.ReadOnlyStore, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errorf(ErrNotFound, "layout %q: %w", path, err)
		}
		return nil, err
	}
	var s *oci.ReadOnlyStore
	if fi.IsDir() {
		s, err = oci.NewFromFS(ctx, os.DirFS(path))
	} else {
		s, err = oci.NewFromTar(ctx, path)
	}
	if err != nil {
		return nil, errorf(ErrInvalid, "layout %q: %w", path, err)
	}
	return s, nil
}
