// Package internal groups regkit's private helpers (error classes, route
// parsing, compression detection, sync helpers, a goroutine-leak check for
// tests) and the dependency fence test that keeps the core's imports to the
// design's list.
package internal
