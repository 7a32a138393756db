// Package tag holds tag-name rules, tag records and ACR's changeable
// attributes (deleteEnabled, writeEnabled, readEnabled, listEnabled) together
// with the lock decisions made from them. The registry asks this package
// whether an operation is allowed; it holds no state of its own.
package tag
