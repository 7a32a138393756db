package registry_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content/oci"

	"github.com/regkit/regkit/registry"
)

// The import crash test: a child process imports images from an OCI layout
// into a registry on disk (the embedded default) and reports each import
// before ("try") and after ("ack") it returns; the parent SIGKILLs it at
// random moments, restarts it, and checks after every kill that the
// registry is whole (no manifest references a missing blob, no tag a
// missing manifest) and that every acknowledged import is there.

const importCrashEnv = "REGKIT_IMPORT_CRASH_DIR"

const crashImages = 24

func TestImportCrashChild(t *testing.T) {
	dir := os.Getenv(importCrashEnv)
	if dir == "" {
		t.Skip("runs only as the import crash test's child process")
	}
	ctx := context.Background()
	reg, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	src, err := registry.OpenLayout(ctx, filepath.Join(dir, "src"))
	if err != nil {
		fmt.Println("open layout failed:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	for n := 0; ; n++ {
		repo := fmt.Sprintf("imp/p%d-%d", os.Getpid(), n)
		for _, i := range rand.Perm(crashImages) {
			tg := fmt.Sprintf("img%d", i)
			d, err := src.Resolve(ctx, tg)
			if err != nil {
				say("err %v", err)
				os.Exit(4)
			}
			say("try %s %s %s", repo, tg, d.Digest)
			if _, err := reg.Import(ctx, src, tg, repo, registry.ImportOptions{}); err != nil {
				say("err %v", err)
				os.Exit(4)
			}
			say("ack")
		}
	}
}

func TestImportCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	dir := t.TempDir()
	store, err := oci.New(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range crashImages {
		img := pushImage(t, store, "linux/amd64", randBytes(256<<10), randBytes(256<<10), randBytes(64<<10))
		tagIn(t, store, img, fmt.Sprintf("img%d", i))
	}
	acked := map[string]digest.Digest{} // "repo:tag"
	kills := 0
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestImportCrashChild$")
		cmd.Env = append(os.Environ(), importCrashEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the child has started an import and a random moment
		// later, so the kill lands inside imports of every stage.
		sc := bufio.NewScanner(stdout)
		var inflight []string
		started := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 4 && f[0] == "try":
				inflight = f[1:]
				if !started {
					started = true
					time.AfterFunc(time.Duration(50+rand.IntN(400))*time.Millisecond, func() {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					})
				}
			case len(f) == 1 && f[0] == "ack" && inflight != nil:
				acked[inflight[0]+":"+inflight[1]] = digest.Digest(inflight[2])
				inflight = nil
			case len(f) > 0 && (f[0] == "err" || f[0] == "open"):
				t.Fatalf("child failed: %s", sc.Text())
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child ended without the kill: %v", err)
		}
		if inflight != nil {
			kills++
		}
		checkImportCrash(t, filepath.Join(dir, "reg"), acked)
	}
	if len(acked) == 0 || kills == 0 {
		t.Fatalf("%d imports acknowledged, %d kills inside an import: the test proved nothing", len(acked), kills)
	}
}

// checkImportCrash opens the registry in dir, checks it whole and finds
// every acknowledged import.
func checkImportCrash(t *testing.T, dir string, acked map[string]digest.Digest) {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	checkWhole(t, reg)
	for ref, want := range acked {
		name, tg, _ := strings.Cut(ref, ":")
		d, err := repoOf(t, reg, name).Manifests().Stat(ctx, tg, registry.GetOptions{})
		if err != nil || d.Digest != want {
			t.Fatalf("acknowledged import %s: %v %v", ref, d.Digest, err)
		}
	}
}
