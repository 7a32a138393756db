// Package errdef holds regkit's closed set of error classes.
//
// Every error a regkit package returns wraps one of the classes below (with
// %w, or through an [Error] built by [New]), so callers test the class with
// errors.Is and never compare strings. The public packages re-export the
// classes under their own names (blob.ErrNotFound is errdef.ErrNotFound), so
// one errors.Is check works whichever package produced the error.
//
// An error also keeps its cause: fmt.Errorf("...: %w: %w", cause, class), so
// errors.Is(err, syscall.ENOSPC) works through every layer. A cause may carry
// a class of its own (a store that fails on a record it cannot decode wraps
// an invalid-input cause in ErrUnavailable); then ErrUnavailable is the
// class that counts, as [Class] and the HTTP layer decide.
//
// The set is closed on purpose: a new class needs a new mapping in the HTTP
// layer (registry/httpapi/errors.go) and a line in docs/DESIGN.md, so add one
// only when no class fits.
package errdef
