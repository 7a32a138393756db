// Package memory is a [blob.Storage] that keeps everything in the process's
// memory: committed blobs in a map keyed by digest, unfinished uploads in a
// map keyed by upload ID. It is meant for tests, examples and harnesses. It
// implements the whole interface, including Resume and Uploads within the
// process, and the optional [blob.Putter]; nothing survives the process.
//
// Committed blobs are immutable byte slices, so readers share them without
// copies and a reader keeps its slice when the blob is deleted.
package memory
