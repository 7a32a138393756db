// Package token is the registry's token service: it speaks Docker's and
// ACR's token protocols, issues JWT access and refresh tokens signed by the
// registry's own keys, and enforces them as an httpapi.Authorizer.
//
// # Endpoints
//
// Service.Handler serves, under /oauth2/:
//
//   - GET /oauth2/token?service=&scope= (the Docker token flow): Basic
//     credentials, or none for the anonymous caller. Answers
//     {"token","access_token","expires_in","issued_at"}, plus
//     "refresh_token" when offline_token=true and credentials were given.
//   - POST /oauth2/token (ACR's and OAuth2's form flow): grant_type
//     password (username and password fields or Basic credentials; neither
//     is the anonymous caller, as the Azure SDK sends without a credential)
//     or refresh_token. Answers {"access_token"} as ACR does, with the
//     OAuth2 fields expires_in, issued_at and scope, and a refresh_token for
//     access_type=offline.
//   - POST /oauth2/exchange (ACR): grant_type access_token,
//     access_token_refresh_token or refresh_token with the identity
//     provider's tokens and tenant; an IdentityVerifier turns them into a
//     subject, answered with {"refresh_token"}.
//
// The password of the null username (NullUsername, ACR's null GUID) is a
// refresh token, which is how docker login carries one. Scopes are
// "type:name:action,..." and may repeat or be space-separated; a token
// grants the intersection of what was asked and what the Authority gives
// the subject now, so asking for more yields a token with less, never an
// error. Only bad credentials are refused (401); malformed scopes and
// forms (bodies over MaxFormBytes) answer 400 with an ACR-style error body.
//
// # Tokens
//
// Claims follow ACR's: iss, sub (empty for the anonymous caller), aud (the
// service name), exp, nbf, iat, jti, version, grant_type ("access_token" or
// "refresh_token", so one kind is never taken for the other), tenant on
// refresh tokens, and access: [{"type":"repository","name":"app",
// "actions":["pull","push"]}] or {"type":"registry","name":"catalog",
// "actions":["*"]}. Claim actions map to the Authority's rights: pull
// content/read, push content/write, delete content/delete, metadata_read,
// metadata_write, deleted_read, deleted_restore, and registry:catalog:*
// registry/catalog. Access tokens live DefaultLifetime (75 minutes, as
// ACR's), refresh tokens DefaultRefreshLifetime (3 hours).
//
// Payloads are written so that their base64url form is also standard
// base64: the Azure SDK for Go decodes a refresh token's payload that way
// to read its expiry.
//
// # Keys
//
// Tokens are signed with ES256 (or EdDSA, WithAlgorithm) and name their key
// in the "kid" header. WithKeyDir keeps the keys in a folder as PKCS#8 PEM
// files of mode 0600, made on first use. Rotate makes a new key the signer
// without downtime: older keys keep verifying until every token they signed
// has expired, then the next rotation deletes them. RemoveKey drops a
// retired key at once. Services sharing a folder pick up each other's new
// keys when they first see their kid. WithKeyState keeps the keys in a
// registry's metadata store instead (registry.State), so the frontends of a
// registry on a shared store (registry/meta/postgres) need no shared
// folder: they sign with the same newest key and verify each other's
// tokens.
//
// # Enforcement
//
// Service.Authorizer checks each /v2/ and /acr/v1/ request. A Bearer token
// must verify (signature, expiry, issuer, audience) and its claims must
// cover the request, and the Authority must still give the subject the
// rights, so disabling an identity or narrowing its scope map bites on the
// next request. Basic credentials are accepted on every request, as ACR
// does. Without credentials only content pulls the anonymous caller holds
// proceed; everything else, writes and deletes above all, gets a Bearer
// challenge naming the realm (the absolute URL of /oauth2/token), the
// service and the exact scope, so a client's body-less probe is answered
// 401 before anything is written. A token lacking the scope, and an
// identity (by token or Basic) lacking the right, get the same challenge
// with error="insufficient_scope" naming what they lack, in ACR's
// vocabulary where the right is ACR's (a pull-only token listing tags:
// "repository:NAME:metadata_read"), as ACR answers; the error body's
// detail lists the same actions. The repository is never looked up, so no
// answer tells whether it exists.
//
// Verified access tokens are cached (bounded), so the requests of one pull
// pay for one signature check; expiry, audience and the key's presence are
// re-checked on every use.
//
// Identities and rights come from an Authority (registry/access in a full
// registry; Open for a registry open to all; Static for tests).
package token
