package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/regkit/regkit/internal/errdef"
)

// MaxFormBytes caps the body of a POST to the token endpoints.
const MaxFormBytes = 64 << 10

// The error codes of the token endpoints' bodies, in ACR's error format
// ({"errors":[{"code","message"}]}).
const (
	CodeUnauthorized         = "UNAUTHORIZED"
	CodeInvalidRequest       = "INVALID_REQUEST"
	CodeInvalidScope         = "INVALID_SCOPE"
	CodeUnsupportedGrantType = "UNSUPPORTED_GRANT_TYPE"
	CodeUnsupported          = "UNSUPPORTED"
	CodeUnavailable          = "UNAVAILABLE"
	CodeUnknown              = "UNKNOWN"
)

// Handler serves the token endpoints; mount it at /oauth2/ beside the
// registry's handler:
//
//	GET  /oauth2/token?service=&scope=  (Docker; Basic credentials or anonymous)
//	POST /oauth2/token                  (grant_type password or refresh_token)
//	POST /oauth2/exchange               (identity token → refresh token)
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// requestError is an answer of the token endpoints other than 200.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(code, format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var err error
	switch r.URL.Path {
	case "/oauth2/token":
		switch r.Method {
		case http.MethodGet:
			err = s.getToken(w, r)
		case http.MethodPost:
			err = s.postToken(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			err = &requestError{http.StatusMethodNotAllowed, CodeUnsupported, "method " + r.Method + " not allowed"}
		}
	case "/oauth2/exchange":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			err = &requestError{http.StatusMethodNotAllowed, CodeUnsupported, "method " + r.Method + " not allowed"}
			break
		}
		err = s.exchange(w, r)
	default:
		err = &requestError{http.StatusNotFound, CodeUnsupported, "no such endpoint"}
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// writeError answers err: a requestError as it says, otherwise by class.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
	case errors.Is(err, errdef.ErrUnauthorized):
		re = &requestError{http.StatusUnauthorized, CodeUnauthorized, err.Error()}
	case errors.Is(err, ErrInvalidScope):
		re = &requestError{http.StatusBadRequest, CodeInvalidScope, err.Error()}
	case errors.Is(err, errdef.ErrInvalid):
		re = &requestError{http.StatusBadRequest, CodeInvalidRequest, err.Error()}
	case errors.Is(err, context.Canceled):
		w.WriteHeader(499)
		return
	case errors.Is(err, errdef.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		re = &requestError{http.StatusServiceUnavailable, CodeUnavailable, "service unavailable, retry later"}
	default:
		re = &requestError{http.StatusInternalServerError, CodeUnknown, "internal error"}
	}
	if re.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(s.serviceFor(r), `"`, "")+`"`)
	}
	type apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, re.status, struct {
		Errors []apiError `json:"errors"`
	}{[]apiError{{re.code, re.msg}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkService returns the service a request names, which must be this
// registry's.
func (s *Service) checkService(r *http.Request, named string) (string, error) {
	want := s.serviceFor(r)
	if named != "" && !strings.EqualFold(named, want) {
		return "", badRequest(CodeInvalidRequest, "unknown service %q (this registry is %q)", clip(named), want)
	}
	return want, nil
}

// scopesOf parses every scope value (each may hold several, space-separated).
func scopesOf(values []string) ([]Scope, error) {
	var out []Scope
	for _, v := range values {
		sc, err := ParseScopes(v)
		if err != nil {
			return nil, err
		}
		out = append(out, sc...)
		if len(out) > MaxScopes {
			return nil, fmt.Errorf("token: more than %d scopes: %w", MaxScopes, ErrInvalidScope)
		}
	}
	return out, nil
}

// tokenResponse is the body of a token answer. GET answers carry token and
// access_token (the Docker token specification); POST answers carry
// access_token (all ACR returns) plus the OAuth2 fields Docker's clients read.
type tokenResponse struct {
	Token        string `json:"token,omitempty"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (s *Service) respond(w http.ResponseWriter, tok string, c *Claims, get bool, refresh string) {
	resp := tokenResponse{
		AccessToken:  tok,
		ExpiresIn:    c.ExpiresAt - c.IssuedAt,
		IssuedAt:     time.Unix(c.IssuedAt, 0).UTC().Format(time.RFC3339),
		RefreshToken: refresh,
	}
	if get {
		resp.Token = tok
	} else {
		var parts []string
		for _, g := range c.Access {
			parts = append(parts, g.Type+":"+g.Name+":"+strings.Join(g.Actions, ","))
		}
		resp.Scope = strings.Join(parts, " ")
	}
	writeJSON(w, http.StatusOK, resp)
}

// getToken serves Docker's GET flow: Basic credentials or none.
func (s *Service) getToken(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	service, err := s.checkService(r, q.Get("service"))
	if err != nil {
		return err
	}
	scopes, err := scopesOf(q["scope"])
	if err != nil {
		return err
	}
	ctx := r.Context()
	subject := ""
	user, pass, hasBasic := r.BasicAuth()
	if hasBasic {
		if subject, err = s.authenticate(ctx, service, user, pass); err != nil {
			return err
		}
	} else if r.Header.Get("Authorization") != "" {
		return fmt.Errorf("token: only Basic credentials are accepted here: %w", ErrUnauthorized)
	}
	tok, c, err := s.IssueAccess(ctx, subject, service, scopes)
	if err != nil {
		return err
	}
	var refresh string
	if hasBasic && q.Get("offline_token") == "true" {
		if refresh, _, err = s.IssueRefresh(subject, service, ""); err != nil {
			return err
		}
	}
	s.respond(w, tok, c, true, refresh)
	return nil
}

// readForm parses a POST body of at most MaxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequest(CodeInvalidRequest, "form body larger than %d bytes", MaxFormBytes)
		}
		return badRequest(CodeInvalidRequest, "malformed form body: %v", err)
	}
	return nil
}

// postToken serves the OAuth2 POST flow: grant_type password (form
// username/password, Basic credentials, or neither for anonymous, as the
// Azure SDK sends with an empty refresh_token) or refresh_token.
func (s *Service) postToken(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	service, err := s.checkService(r, f.Get("service"))
	if err != nil {
		return err
	}
	scopes, err := scopesOf(f["scope"])
	if err != nil {
		return err
	}
	ctx := r.Context()
	var subject string
	offline := f.Get("access_type") == "offline"
	switch gt := f.Get("grant_type"); gt {
	case "password":
		user, pass := f.Get("username"), f.Get("password")
		if user == "" && pass == "" {
			user, pass, _ = r.BasicAuth()
		}
		if user != "" || pass != "" {
			if subject, err = s.authenticate(ctx, service, user, pass); err != nil {
				return err
			}
		} else {
			offline = false // no refresh token for the anonymous caller
		}
	case "refresh_token":
		rt := f.Get("refresh_token")
		if rt == "" {
			return badRequest(CodeInvalidRequest, "grant_type refresh_token needs a refresh_token")
		}
		c, err := s.verifyRefresh(rt, service)
		if err != nil {
			return err
		}
		subject = c.Subject
		offline = false // the client keeps its refresh token
	case "":
		return badRequest(CodeUnsupportedGrantType, "missing grant_type (password or refresh_token)")
	default:
		return badRequest(CodeUnsupportedGrantType, "unsupported grant_type %q (want password or refresh_token)", clip(gt))
	}
	tok, c, err := s.IssueAccess(ctx, subject, service, scopes)
	if err != nil {
		return err
	}
	var refresh string
	if offline {
		if refresh, _, err = s.IssueRefresh(subject, service, ""); err != nil {
			return err
		}
	}
	s.respond(w, tok, c, false, refresh)
	return nil
}

// exchange serves POST /oauth2/exchange: an identity token from the host's
// provider becomes a refresh token of this registry.
func (s *Service) exchange(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	service, err := s.checkService(r, f.Get("service"))
	if err != nil {
		return err
	}
	id := Identity{
		GrantType:    f.Get("grant_type"),
		Service:      service,
		Tenant:       f.Get("tenant"),
		AccessToken:  f.Get("access_token"),
		RefreshToken: f.Get("refresh_token"),
	}
	switch id.GrantType {
	case ExchangeAccessToken:
		if id.AccessToken == "" {
			return badRequest(CodeInvalidRequest, "grant_type access_token needs an access_token")
		}
	case ExchangeAccessTokenRefreshToken:
		if id.AccessToken == "" || id.RefreshToken == "" {
			return badRequest(CodeInvalidRequest, "grant_type access_token_refresh_token needs an access_token and a refresh_token")
		}
	case ExchangeRefreshToken:
		if id.RefreshToken == "" {
			return badRequest(CodeInvalidRequest, "grant_type refresh_token needs a refresh_token")
		}
	case "":
		return badRequest(CodeUnsupportedGrantType, "missing grant_type (access_token, access_token_refresh_token or refresh_token)")
	default:
		return badRequest(CodeUnsupportedGrantType, "unsupported grant_type %q", clip(id.GrantType))
	}
	if s.verifier == nil {
		return badRequest(CodeUnsupportedGrantType, "this registry has no identity provider to exchange tokens with")
	}
	subject, err := s.verifier.VerifyIdentity(r.Context(), id)
	if err != nil {
		return err
	}
	if subject == "" {
		return fmt.Errorf("token: identity has no subject: %w", ErrUnauthorized)
	}
	refresh, _, err := s.IssueRefresh(subject, service, id.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		RefreshToken string `json:"refresh_token"`
	}{refresh})
	return nil
}
