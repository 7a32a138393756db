// Package interop holds the tests that drive regkit's HTTP handler with
// go-containerregistry, the client of crane, ko and many CI tools. It is a
// module of its own so that a test-only client stays out of the core
// module's go.mod; its tests run with (cd interop && go test ./...), which
// the README's test command and .ci/run include.
package interop
