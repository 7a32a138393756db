// Package compress detects the compression of a blob from its first bytes
// and decompresses gzip and zstd streams with klauspost/compress, for the
// packages that look inside layers (import, media-type checks).
package compress
