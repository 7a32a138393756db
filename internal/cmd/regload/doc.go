// Command regload drives load against an OCI distribution registry on this machine
// and reports throughput and latency. It is regkit's own measuring tool: it uses only
// the standard library and talks only to a loopback address (127.0.0.0/8, ::1 or
// localhost); it refuses any other host, also when a server redirects elsewhere.
//
// Usage:
//
//	regload <mode> [flags]
//
// Modes:
//
//	pushblob   push one blob of -size deterministic pseudo-random bytes, either
//	           monolithic (POST, then PUT ?digest= with the whole body) or chunked
//	           (POST, PATCH chunks of -chunk bytes with Content-Range, then PUT
//	           ?digest=); reports MiB/s, and the single-core sha256 MiB/s of the same
//	           bytes measured in the same run, with their ratio
//	pullblob   GET one blob (by -digest, or the one pushblob pushes for -size and
//	           -seed) and report MiB/s
//	get        GET (or HEAD) one path with -c concurrent keep-alive connections for
//	           -d; reports requests/s, latency percentiles and errors. By default it
//	           speaks HTTP/1.1 itself (-client raw), which costs the CPU the server
//	           shares a fraction of what net/http's client (-client std) costs
//	manifests  push a config and a layer blob, then PUT -n distinct small image
//	           manifests by tag and DELETE them by digest with -c clients; reports
//	           PUT/s and DELETE/s
//	seed       push tag -tag (default latest) of a small image with a -size (default
//	           1KiB) layer, and print the paths that `get` can hammer
//
// Every mode takes -url (the registry's base URL, default http://127.0.0.1:5000) and
// -timeout (a bound on the whole run). Every loop is bounded in count and in time.
// regload exits non-zero when a request failed, after printing its report.
// Run `regload <mode> -h` for a mode's flags. The last line of every run starts
// with "result:" and holds the figures as key=value pairs, for scripts.
//
// Sizes accept the suffixes B, KiB, MiB, GiB (powers of 1024) and KB, MB, GB (powers
// of 1000); MiB/s in the reports is 2^20 bytes per second.
package main
