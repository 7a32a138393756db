package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests run against a real PostgreSQL server: the one REGKIT_POSTGRES_URL
// names, or else a private one TestMain starts from the Debian server
// binaries in a temporary folder and stops at the end. Each test keeps its
// keys in tables of its own (see tableFor), so tests never see each other's
// data, also on a shared server, and drops them when it ends.
const (
	envURL     = "REGKIT_POSTGRES_URL"
	envRequire = "REGKIT_REQUIRE_POSTGRES"
)

// server is what TestMain found: the connection string of the server the
// tests use, or why there is none. TestMain sets it before any test runs;
// tests only read it.
var server struct {
	url    string
	reason string // set when url is empty
}

func TestMain(m *testing.M) {
	code := func() int {
		if u := os.Getenv(envURL); u != "" {
			server.url = u
			return m.Run()
		}
		url, stop, err := startServer()
		if err != nil {
			server.reason = err.Error()
			if os.Getenv(envRequire) == "1" {
				fmt.Fprintf(os.Stderr, "%s=1 and no PostgreSQL server: %v\n", envRequire, err)
				return 1
			}
			return m.Run()
		}
		defer stop()
		server.url = url
		return m.Run()
	}()
	os.Exit(code)
}

// serverURL returns the server's connection string, or skips the test
// (fails it when REGKIT_REQUIRE_POSTGRES=1) when there is no server.
func serverURL(tb testing.TB) string {
	tb.Helper()
	if server.url == "" {
		msg := fmt.Sprintf("no PostgreSQL server: set %s, or install the server (apt-get install postgresql) so the test can start one: %s",
			envURL, server.reason)
		if os.Getenv(envRequire) == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return server.url
}

// startServer starts a private server: initdb into a temporary folder
// (trust authentication: it listens on 127.0.0.1 and a socket in that
// folder only), pg_ctl start on a free port. stop stops it and removes the
// folder. As root, both run as the postgres user, since initdb refuses
// root. The server runs with fsync off: it holds test data only.
func startServer() (url string, stop func(), err error) {
	bin, err := serverBin()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "regkit-pg-")
	if err != nil {
		return "", nil, err
	}
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) error {
		argv := append(slices.Clone(asUser), append([]string{filepath.Join(bin, name)}, args...)...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-A", "trust", "-U", "regkit", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
	if err := run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	stop = func() {
		if err := run("pg_ctl", "stop", "-D", data, "-m", "fast", "-w"); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://regkit@127.0.0.1:%d/postgres?sslmode=disable", port), stop, nil
}

// serverBin returns the folder of the newest installed server's binaries.
func serverBin() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return versionOf(a) - versionOf(b) })
	for i := len(found) - 1; i >= 0; i-- {
		bin := filepath.Dir(found[i])
		if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("no /usr/lib/postgresql/*/bin/initdb and pg_ctl")
}

// versionOf returns the major version in /usr/lib/postgresql/<v>/bin/initdb.
func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tableFor returns the table a test keeps the store of dir in: the same
// name for the same dir, so reopening a dir finds its data, and a name no
// other test uses. The table is dropped when tb ends.
func tableFor(tb testing.TB, dir string) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(dir))
	name := "regkit_test_" + hex.EncodeToString(sum[:12])
	dropAtEnd(tb, name)
	return name
}

// uniqueTable returns a fresh table name for tb, dropped when tb ends.
func uniqueTable(tb testing.TB) string {
	tb.Helper()
	return tableFor(tb, tb.TempDir())
}

// dropped records the tables whose drop is registered, so a table opened
// again by the same test is dropped once.
var dropped sync.Map

func dropAtEnd(tb testing.TB, table string) {
	url := serverURL(tb)
	if _, loaded := dropped.LoadOrStore(table, true); loaded {
		return
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			tb.Errorf("drop %s: %v", table, err)
			return
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS "`+table+`"`); err != nil {
			tb.Errorf("drop %s: %v", table, err)
		}
	})
}
