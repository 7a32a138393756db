package bolt

// backend prefixes this store's error messages.
const backend = "meta/bolt"
