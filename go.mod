module github.com/regkit/regkit

go 1.26.0

require github.com/opencontainers/go-digest v1.0.0

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
