package registry

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// The crash test: a child process runs tag moves, manifest pushes and
// deletes against the embedded default and reports each operation before
// ("try") and after ("ack") it commits; the parent SIGKILLs it at random
// moments, restarts it, and finally proves the registry consistent and
// every acknowledged change present (the one operation in flight at the
// kill may or may not have landed, but wholly or not at all).

const crashEnv = "REGKIT_REGISTRY_CRASH_DIR"

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("runs only as the crash test's child process")
	}
	ctx := context.Background()
	r, err := Open(dir)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	for {
		repo := repoOf(t, r, fmt.Sprintf("crash/r%d", rng.IntN(2)))
		tg := fmt.Sprintf("t%d", rng.IntN(5))
		switch op := rng.IntN(4); {
		case op < 2:
			img := buildImage(t, repo, 1+rng.IntN(2), nil)
			say("try put %s %s %s", repo.Name(), tg, img.desc.Digest)
			if _, err := repo.Manifests().Put(ctx, img.bytes, PutOptions{MediaType: img.desc.MediaType, Tag: tg}); err != nil {
				say("err %v", err)
				os.Exit(4)
			}
			say("ack")
		case op == 2:
			ms, _ := repo.Manifests().List(ctx, ListOptions{})
			if len(ms) == 0 {
				continue
			}
			d := ms[rng.IntN(len(ms))].Digest
			say("try tag %s %s %s", repo.Name(), tg, d)
			if err := repo.Tags().Set(ctx, tg, d, SetOptions{}); err != nil {
				say("err %v", err)
				os.Exit(4)
			}
			say("ack")
		default:
			ms, _ := repo.Manifests().List(ctx, ListOptions{})
			if len(ms) == 0 {
				continue
			}
			d := ms[rng.IntN(len(ms))].Digest
			say("try del %s - %s", repo.Name(), d)
			if err := repo.Manifests().Delete(ctx, d); err != nil {
				say("err %v", err)
				os.Exit(4)
			}
			say("ack")
		}
	}
}

// crashModel is the state the acknowledged operations produce.
type crashModel struct {
	tags      map[string]digest.Digest // "repo:tag" -> digest
	manifests map[string]bool          // "repo@digest"
}

func (m crashModel) clone() crashModel {
	return crashModel{tags: maps.Clone(m.tags), manifests: maps.Clone(m.manifests)}
}

func (m crashModel) apply(op, repo, tg string, d digest.Digest) {
	switch op {
	case "put":
		m.manifests[repo+"@"+d.String()] = true
		m.tags[repo+":"+tg] = d
	case "tag":
		m.tags[repo+":"+tg] = d
	case "del":
		delete(m.manifests, repo+"@"+d.String())
		for k, v := range m.tags {
			if v == d && strings.HasPrefix(k, repo+":") {
				delete(m.tags, k)
			}
		}
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	dir := t.TempDir()
	model := crashModel{tags: map[string]digest.Digest{}, manifests: map[string]bool{}}
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(time.Duration(300+rand.IntN(700))*time.Millisecond, func() {
			cmd.Process.Signal(syscall.SIGKILL)
		})
		sc := bufio.NewScanner(stdout)
		var inflight []string
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 5 && f[0] == "try":
				inflight = f[1:]
			case len(f) == 1 && f[0] == "ack" && inflight != nil:
				model.apply(inflight[0], inflight[1], inflight[2], digest.Digest(inflight[3]))
				inflight = nil
			case len(f) > 0 && f[0] == "err":
				t.Fatalf("child failed: %s", sc.Text())
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child ended without the kill: %v", err)
		}
		// Every round: the registry must be whole and hold exactly the
		// acknowledged changes, plus or minus the one in flight.
		got := actualState(t, dir)
		alt := model.clone()
		if inflight != nil {
			alt.apply(inflight[0], inflight[1], inflight[2], digest.Digest(inflight[3]))
		}
		if !sameState(got, model) && !sameState(got, alt) {
			t.Fatalf("round %d: state matches neither the acknowledged changes nor them plus the in-flight %v\ngot  %v\nwant %v", round, inflight, got, model)
		}
		model = got
	}
	if len(model.manifests) == 0 {
		t.Fatal("the child committed nothing; the test proved nothing")
	}
}

// actualState opens the registry in dir, checks it and reads its state.
func actualState(t *testing.T, dir string) crashModel {
	t.Helper()
	ctx := context.Background()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Check(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("registry inconsistent after crash: %v %v", err, rep.Problems)
	}
	m := crashModel{tags: map[string]digest.Digest{}, manifests: map[string]bool{}}
	for _, name := range []string{"crash/r0", "crash/r1"} {
		repo := repoOf(t, r, name)
		tags, err := repo.Tags().ListProperties(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range tags {
			m.tags[name+":"+tp.Name] = tp.Digest
		}
		ms, err := repo.Manifests().List(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, mp := range ms {
			m.manifests[name+"@"+mp.Digest.String()] = true
			// Every manifest reads back with its exact digest.
			got, err := repo.Manifests().Get(ctx, mp.Digest.String(), GetOptions{})
			if err != nil || digest.FromBytes(got.Bytes) != mp.Digest {
				t.Fatalf("manifest %s unreadable after crash: %v", mp.Digest, err)
			}
		}
	}
	return m
}

func sameState(a, b crashModel) bool {
	return maps.Equal(a.tags, b.tags) && maps.Equal(a.manifests, b.manifests)
}
