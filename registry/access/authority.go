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

// Allowed is Service.Allowed with the actions as strings. The slice is
// shared: the caller must not change its elements (it is clipped, so an
// append copies).
func (a StringAuthority) Allowed(ctx context.Context, subject, repository string) ([]string, error) {
	set, err := a.s.allowed(ctx, subject, repository)
	if err != nil {
		return nil, err
	}
	return stringLists[set], nil
}
