package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/regkit/regkit/blob"
)

// errorf returns "blob/azure: <format>: <class>", wrapping class and every
// cause the format wraps with %w.
func errorf(class error, format string, args ...any) error {
	return fmt.Errorf("blob/azure: "+format+": %w", append(args, class)...)
}

// classify turns an error of the Azure SDK into one of blob's classes,
// keeping the cause: a missing blob or container is ErrNotFound, a lease
// held by someone else or a failed condition ErrConflict, a rejected
// request ErrInvalid, and everything else (network, 5xx, throttling,
// authentication) ErrUnavailable. Context errors are returned as they are,
// wrapped, so errors.Is(err, context.Canceled) holds.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("blob/azure: %s: %w", op, err)
	}
	return fmt.Errorf("blob/azure: %s: %w: %w", op, classOf(err), err)
}

// classOf returns the blob error class of an SDK error.
func classOf(err error) error {
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound,
		bloberror.ContainerBeingDeleted, bloberror.CannotVerifyCopySource):
		return blob.ErrNotFound
	case isLeaseConflict(err), bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists):
		return blob.ErrConflict
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return blob.ErrUnavailable
	}
	switch re.StatusCode {
	case http.StatusNotFound:
		return blob.ErrNotFound
	case http.StatusConflict, http.StatusPreconditionFailed:
		return blob.ErrConflict
	case http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable, http.StatusRequestEntityTooLarge:
		return blob.ErrInvalid
	}
	return blob.ErrUnavailable
}

// isLeaseConflict reports whether err says another holder has the lease.
func isLeaseConflict(err error) bool {
	return bloberror.HasCode(err, bloberror.LeaseAlreadyPresent, bloberror.LeaseIDMissing,
		bloberror.LeaseIDMismatchWithBlobOperation, bloberror.LeaseIDMismatchWithLeaseOperation,
		bloberror.LeaseLost, bloberror.LeaseIsBreakingAndCannotBeAcquired,
		bloberror.LeaseIsBrokenAndCannotBeRenewed, bloberror.LeaseNotPresentWithBlobOperation,
		bloberror.LeaseNotPresentWithLeaseOperation, bloberror.LeaseIsBreakingAndCannotBeChanged,
		bloberror.LeaseAlreadyBroken)
}

// notFound reports whether err says the blob (or its container) is missing.
func notFound(err error) bool {
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return true
	}
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// exists reports whether err says a conditional create found the blob there
// (If-None-Match: * failed).
func exists(err error) bool {
	if bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) {
		return true
	}
	var re *azcore.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusPreconditionFailed)
}

// changed reports whether err says an If-Match condition failed: the blob
// changed since it was read.
func changed(err error) bool {
	if bloberror.HasCode(err, bloberror.ConditionNotMet) {
		return true
	}
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusPreconditionFailed
}
