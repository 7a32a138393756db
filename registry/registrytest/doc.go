// Package registrytest starts a real, in-memory registry server for a test
// in one line:
//
//	srv := registrytest.New(t)
//	ref := srv.Host + "/team/app:v1" // push and pull with any client
//
// The server is an httptest.Server running registry/httpapi over an
// in-memory registry.Registry (or, with Options.Dir, the embedded default on
// disk); it stops when the test ends. Recorder logs what a client sends.
package registrytest
