// Package meta defines the registry's metadata store: an ordered,
// transactional key-value [Store] with read and write transactions and
// ranged scans in key order.
//
// Implementations: meta/memory (tests and harnesses) and meta/bolt (the
// embedded, persistent default, one bbolt file). meta/metatest is the
// conformance suite every implementation runs in one line. The interface is
// kept to what a PostgreSQL table with serializable transactions can also
// do, so a later backend fits without changes to the registry.
package meta
