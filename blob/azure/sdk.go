package azure

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azb "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// Short names for the SDK's blob package, whose name clashes with regkit's.
type (
	blobDeleteOptions      = azb.DeleteOptions
	blobSetMetadataOptions = azb.SetMetadataOptions
)

// ifMatch is the condition "the blob is still at etag".
func ifMatch(etag azcore.ETag) *azb.AccessConditions {
	return &azb.AccessConditions{ModifiedAccessConditions: &azb.ModifiedAccessConditions{IfMatch: &etag}}
}

// ifNoneMatchAny is the condition "no committed blob by this name exists".
func ifNoneMatchAny() *azb.AccessConditions {
	any := azcore.ETagAny
	return &azb.AccessConditions{ModifiedAccessConditions: &azb.ModifiedAccessConditions{IfNoneMatch: &any}}
}

// withLease is the condition "the caller holds lease id".
func withLease(id string) *azb.AccessConditions {
	return &azb.AccessConditions{LeaseAccessConditions: &azb.LeaseAccessConditions{LeaseID: &id}}
}
