// Command frontend is a custom registry frontend as a host application
// writes one with regkit: the registry is one handler among the host's own
// routes, behind the host's own authorization and on the host's own choice
// of storage.
//
// The program assumes an upstream proxy (an identity-aware proxy, an API
// gateway) that authenticates people and forwards each request with three
// headers, signed with a secret the proxy and the frontend share:
//
//	X-Frontend-User:      alice
//	X-Frontend-Groups:    ml-team,ops          (may be empty)
//	X-Frontend-Expires:   1767225600           (Unix seconds)
//	X-Frontend-Signature: hex(HMAC-SHA256(secret, user "\n" groups "\n" expires))
//
// The frontend's rules, in [groupAuthorizer]: anyone signed in may pull any
// repository; a user may push to and delete from repositories under
// users/USER/ and under GROUP/ for each of their groups; only members of
// the admin group (-admin-group) may list the catalog. A request without a
// valid signature gets 401; a signed request outside its rights gets 403.
//
// Beside the registry's /v2/ API the frontend serves its own routes:
//
//	GET /frontend/whoami        the caller as the proxy vouched for them
//	GET /frontend/repositories  the repositories the caller may push to
//	GET /healthz                the registry's health
//
// Storage: with -data DIR, blobs go to DIR/blobs (blob/fs) and metadata to
// DIR/meta.db (meta/bolt without the write-ahead log: this host prefers
// plain bbolt's smaller moving parts to the log's commit rate); without
// -data everything is held in memory.
//
// Run it and sign a header for curl:
//
//	FRONTEND_SECRET=s3cret go run ./examples/frontend -addr 127.0.0.1:5050 &
//	FRONTEND_SECRET=s3cret go run ./examples/frontend -sign alice -groups ml-team
package main
