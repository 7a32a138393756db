package token

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/regkit/regkit/internal/errdef"
)

// The grant types of POST /oauth2/exchange, as ACR names them.
const (
	ExchangeAccessToken             = "access_token"
	ExchangeAccessTokenRefreshToken = "access_token_refresh_token"
	ExchangeRefreshToken            = "refresh_token"
)

// Identity is what POST /oauth2/exchange presents: tokens from the host's
// identity provider (ACR: Microsoft Entra ID).
type Identity struct {
	// GrantType is one of the Exchange constants.
	GrantType string
	// Service is the registry the client names.
	Service string
	// Tenant is the identity provider's tenant, as the client sends it.
	Tenant string
	// AccessToken is the provider's access token (grant types access_token
	// and access_token_refresh_token).
	AccessToken string
	// RefreshToken is the provider's refresh token (grant types
	// refresh_token and access_token_refresh_token).
	RefreshToken string
}

// IdentityVerifier turns an identity token from the host's identity
// provider into a subject the Authority knows.
type IdentityVerifier interface {
	// VerifyIdentity checks id and returns its subject, or an error wrapping
	// errdef.ErrUnauthorized when the tokens are not valid.
	VerifyIdentity(ctx context.Context, id Identity) (subject string, err error)
}

// StaticIdentities is an IdentityVerifier for tests: it maps identity
// tokens (access or refresh) to subjects.
type StaticIdentities map[string]string

// VerifyIdentity looks the access token up, then the refresh token.
func (m StaticIdentities) VerifyIdentity(_ context.Context, id Identity) (string, error) {
	for _, tok := range []string{id.AccessToken, id.RefreshToken} {
		if tok == "" {
			continue
		}
		for known, sub := range m {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(known)) == 1 {
				return sub, nil
			}
		}
	}
	return "", fmt.Errorf("token: identity token not recognized: %w", errdef.ErrUnauthorized)
}
