// Command registryd runs a regkit registry server: the OCI distribution API
// over filesystem blobs and embedded metadata in one folder.
//
//	go run ./examples/registryd                      # 127.0.0.1:5000, data in ./data
//	go run ./examples/registryd -addr :5000 -data /var/lib/regkit
//
// Every flag has an environment variable (REGKIT_ADDR, REGKIT_DATA,
// REGKIT_TLS_CERT, REGKIT_TLS_KEY, REGKIT_LOG_LEVEL, REGKIT_GC_INTERVAL,
// REGKIT_CREDENTIAL_SETS, ...).
//
// Cache rules (regadm cache-rule create) that name a credential set
// (--cred-set NAME) take its username and password from the
// -credential-sets folder, laid out as mounted secrets are:
// DIR/NAME/username and DIR/NAME/password. They are read at each upstream
// fetch, so a rotated secret is in force without a restart, and a set's
// name cannot reach outside the folder.
// /healthz answers 200 "ok" while the registry serves reads and writes, and
// 503 with the reason (registry.Registry.Health) when a store went read-only
// or failed. SIGINT or SIGTERM stop it gracefully: new connections are
// refused and running requests (uploads among them) get up to
// -shutdown-timeout to finish. Requests still running then have their
// contexts cancelled and their connections closed, and the server waits for
// their handlers to return: the registry is closed only after the last one,
// so every write a client saw acknowledged is on disk when the process exits.
// A second signal stops the process at once, without closing the registry
// (what was acknowledged is durable; see registry.Open).
package main
