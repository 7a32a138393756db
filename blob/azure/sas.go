package azure

import (
	"context"
	"errors"
	"time"

	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
)

const (
	// copyTTL is how long the read-only SAS of an upload blob that Commit
	// hands to Put Block From URL stays valid.
	copyTTL = time.Hour
	// delegationTTL is how long a fetched user-delegation key is asked to
	// last (Azure allows up to seven days); it is fetched again when less
	// than a SAS's lifetime is left.
	delegationTTL = 24 * time.Hour
	// clockSkew backdates a SAS's start, for servers whose clock is ahead.
	clockSkew = 5 * time.Minute
)

// errCannotSign says the container client has no shared key and the Store
// no service client for user delegation.
var errCannotSign = errors.New("the client can sign no SAS (no shared key, no service client)")

// RedirectURL implements blob.Redirector: a read-only SAS URL of the blob,
// valid for ttl (plus a little): a service SAS when the container client
// has a shared key, a user-delegation SAS with WithServiceClient, and
// ErrUnsupported otherwise. A blob deleted while the URL is in use stops
// being served by it: the URL names the blob, not a snapshot.
func (s *Store) RedirectURL(ctx context.Context, dgst digest.Digest, ttl time.Duration) (string, error) {
	d, err := parse(ctx, dgst)
	if err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errorf(blob.ErrInvalid, "redirect %s: ttl %v", d, ttl)
	}
	if _, err := s.Stat(ctx, d); err != nil {
		return "", err
	}
	u, err := s.signRead(ctx, s.blockBlob(s.blobName(d)), ttl+time.Minute)
	if errors.Is(err, errCannotSign) {
		return "", errorf(blob.ErrUnsupported, "redirect %s: %w", d, err)
	}
	return u, err
}

// copySource returns a URL Put Block From URL can read bc from: a SAS URL
// when the Store can sign one, else bc's own URL (which carries the
// container client's SAS, if it has one).
func (s *Store) copySource(ctx context.Context, bc *blockblob.Client) (string, error) {
	u, err := s.signRead(ctx, bc, copyTTL)
	if errors.Is(err, errCannotSign) {
		return bc.URL(), nil
	}
	return u, err
}

// signRead returns a read-only SAS URL of bc valid for ttl.
func (s *Store) signRead(ctx context.Context, bc *blockblob.Client, ttl time.Duration) (string, error) {
	now := s.now().UTC()
	u, err := bc.GetSASURL(sas.BlobPermissions{Read: true}, now.Add(ttl), &azb.GetSASURLOptions{StartTime: ptr(now.Add(-clockSkew))})
	if err == nil {
		return u, nil
	}
	if s.svc == nil {
		return "", errCannotSign
	}
	cred, err := s.delegation(ctx, now, ttl)
	if err != nil {
		return "", err
	}
	parts, err := azb.ParseURL(bc.URL())
	if err != nil {
		return "", errorf(blob.ErrInvalid, "blob URL %q: %w", bc.URL(), err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     now.Add(-clockSkew),
		ExpiryTime:    now.Add(ttl),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: parts.ContainerName,
		BlobName:      parts.BlobName,
	}.SignWithUserDelegation(cred)
	if err != nil {
		return "", errorf(blob.ErrUnsupported, "sign %s: %w", parts.BlobName, err)
	}
	parts.SAS = q
	return parts.String(), nil
}

// delegation returns a user-delegation credential valid for ttl from now,
// fetching a new key when the cached one expires too soon.
func (s *Store) delegation(ctx context.Context, now time.Time, ttl time.Duration) (*service.UserDelegationCredential, error) {
	s.udMu.Lock()
	defer s.udMu.Unlock()
	if s.ud != nil && s.udTo.After(now.Add(ttl)) {
		return s.ud, nil
	}
	to := now.Add(max(delegationTTL, ttl+time.Hour))
	cred, err := s.svc.GetUserDelegationCredential(ctx, service.KeyInfo{
		Start:  ptr(now.Add(-clockSkew).Format(sas.TimeFormat)),
		Expiry: ptr(to.Format(sas.TimeFormat)),
	}, nil)
	if err != nil {
		return nil, classify("get user delegation key", err)
	}
	s.ud, s.udTo = cred, to
	return cred, nil
}
