package fs_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob/fs"
)

// Example writes a blob in two chunks, pausing in between as a chunked HTTP
// upload would, commits it and reads part of it back.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "regkit-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := fs.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	content := "hello, content-addressed world"
	expected := digest.FromString(content)

	// First chunk, then pause: the upload and its hash state stay on disk.
	w, err := store.Writer(ctx)
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(w, content[:5])
	id := w.ID()
	w.Close()

	// Later, perhaps in another process: resume by ID and finish.
	w, err = store.Resume(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	fmt.Println("resumed at", w.Size())
	io.Copy(w, strings.NewReader(content[5:]))
	info, err := w.Commit(ctx, expected, int64(len(content)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed", info.Size, "bytes, digest ok:", info.Digest == expected)

	// Read at an offset, as http.ServeContent does for a Range request.
	r, err := store.ReaderAt(ctx, expected)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	part, _ := io.ReadAll(io.NewSectionReader(r, 7, 15))
	fmt.Printf("%s\n", part)
	// Output:
	// resumed at 5
	// committed 30 bytes, digest ok: true
	// content-address
}
