package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regkit/regkit/registry"
)

// Example locks a tag in a data folder, then shows a purge refused for a
// bad flag: exit status 2, nothing done.
func Example() {
	tmp, err := os.MkdirTemp("", "regadm-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	dir := filepath.Join(tmp, "data")
	reg, err := registry.Open(dir)
	if err != nil {
		panic(err)
	}
	if _, err := pushSmallImage(ctx, reg, "app", "v1"); err != nil {
		panic(err)
	}
	if err := reg.Close(); err != nil {
		panic(err)
	}

	code := run(ctx, []string{"-data", dir, "lock", "--delete", "app:v1"}, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	code = run(ctx, []string{"-data", dir, "purge", "--filter", "app:.*", "--ago", "30d", "--concurrency", "64"}, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// locked tag app:v1: writeEnabled=false deleteEnabled=false readEnabled=true listEnabled=true
	// exit status 0
	// regadm: --concurrency 64: want 1 to 32
	// exit status 2
}
