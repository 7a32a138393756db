// Package policy evaluates retention and purge rules over snapshots of a
// repository: untagged retention, ACR purge filters and soft-delete windows.
// Evaluation is pure: it reads a snapshot and returns decisions; the
// registry carries them out inside its own transactions.
package policy
