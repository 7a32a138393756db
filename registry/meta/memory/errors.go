package memory

// backend prefixes this store's error messages.
const backend = "meta/memory"
