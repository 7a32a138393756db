package access

import "context"

// StringAuthority is a Service seen through actions spelled as plain
// strings: the shape registry/token's Authority asks for, so that
// token.WithAuthority(svc.StringAuthority()) connects the token service to
// the access model without either package importing the other.
type StringAuthority struct{ s *Service }

// StringAuthority returns s as a StringAuthority.
func (s *Service) StringAuthority() StringAuthority { return StringAuthority{s: s} }

// Authenticate is Service.Authenticate.
func (a StringAuthority) Authenticate(ctx context.Context, username, password string) (string, error) {
	return a.s.Authenticate(ctx, username, password)
}

// Allowed is Service.Allowed with the actions as strings.
func (a StringAuthority) Allowed(ctx context.Context, subject, repository string) ([]string, error) {
	acts, err := a.s.Allowed(ctx, subject, repository)
	if err != nil || len(acts) == 0 {
		return nil, err
	}
	out := make([]string, len(acts))
	for i, x := range acts {
		out[i] = string(x)
	}
	return out, nil
}
