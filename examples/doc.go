// Package examples holds runnable programs that show regkit in use, one
// folder per program. Each is a main package: go run ./examples/NAME.
package examples
