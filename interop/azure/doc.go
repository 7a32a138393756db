// Package azure holds the tests that drive regkit's HTTP handler, ACR's
// /acr/v1/ API and the token endpoints included, with the Azure SDK for Go's
// container-registry client, unmodified. It is a module of its own so the
// SDK stays out of the core module's go.mod; its tests run with
// (cd interop/azure && go test ./...).
package azure
