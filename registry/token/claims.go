package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// The grant_type claim tells refresh tokens from access tokens, as ACR's do.
const (
	grantAccess  = "access_token"
	grantRefresh = "refresh_token"
	claimVersion = "1.0"
)

// Grant is one entry of a token's "access" claim: actions on a resource.
type Grant struct {
	// Type is "repository" or "registry".
	Type string `json:"type"`
	// Name is the repository name, or "catalog".
	Name string `json:"name"`
	// Actions are claim actions (ClaimPull, ...).
	Actions []string `json:"actions"`
}

// Claims are the claims of a token the Service issued.
type Claims struct {
	Issuer    string  `json:"iss"`
	Subject   string  `json:"sub,omitempty"`
	Audience  string  `json:"aud"`
	ExpiresAt int64   `json:"exp"`
	NotBefore int64   `json:"nbf"`
	IssuedAt  int64   `json:"iat"`
	ID        string  `json:"jti"`
	Version   string  `json:"version"`
	GrantType string  `json:"grant_type"`
	Tenant    string  `json:"tenant,omitempty"`
	Access    []Grant `json:"access,omitempty"`
}

// Expires returns the expiry time.
func (c *Claims) Expires() time.Time { return time.Unix(c.ExpiresAt, 0) }

// Allows reports whether the access claim grants the claim action on the
// resource (typ "repository" or "registry").
func (c *Claims) Allows(typ, name, action string) bool {
	for _, g := range c.Access {
		if g.Type == typ && g.Name == name && (slices.Contains(g.Actions, action) || slices.Contains(g.Actions, ClaimAll)) {
			return true
		}
	}
	return false
}

// GetExpirationTime is part of jwt.Claims, for the parser's time checks.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}

// GetNotBefore is part of jwt.Claims.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.NotBefore, 0)), nil
}

// GetIssuedAt is part of jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}

// GetAudience is part of jwt.Claims.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings{c.Audience}, nil }

// GetIssuer is part of jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject is part of jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return c.Subject, nil }

// encodePayload renders claims as the token's payload segment. Every
// character outside printable ASCII, and '?' and '~', is written as a \u
// escape, so the payload's base64url form is also valid standard base64:
// the Azure SDK for Go reads a refresh token's expiry by decoding the
// payload with standard base64, which fails on '-' and '_'. (In a run of
// ASCII bytes only those characters, and DEL, can end a 6-bit group in 62
// or 63; json.Marshal already escapes '<', '>' and '&'.)
func encodePayload(c *Claims) (string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(raw) + 16)
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		i += n
		switch {
		case r == '?' || r == '~' || r >= 0x7f:
			if r > 0xffff {
				r -= 0x10000
				writeU(&b, 0xd800+(r>>10))
				writeU(&b, 0xdc00+(r&0x3ff))
			} else {
				writeU(&b, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b.Bytes()), nil
}

func writeU(b *bytes.Buffer, r rune) {
	s := strconv.FormatInt(int64(r), 16)
	b.WriteString(`\u`)
	for range 4 - len(s) {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// sign makes a token of claims with k.
func (k *key) sign(c *Claims) (string, error) {
	payload, err := encodePayload(c)
	if err != nil {
		return "", err
	}
	signing := k.header + "." + payload
	sig, err := k.method.Sign(signing, k.priv)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
