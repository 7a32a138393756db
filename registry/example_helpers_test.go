package registry_test

import "os"

func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "regkit-example-")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}
