package azure_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// The tests run against a real Blob service: the one REGKIT_AZURE_BLOB_URL
// names (with REGKIT_AZURE_ACCOUNT and REGKIT_AZURE_KEY, its shared key),
// or else a private Azurite that TestMain starts on a free loopback port
// with a temporary folder and stops at the end. .ci/azurite.sh installs
// Azurite under $REGKIT_TOOLS. Without either the tests skip, unless
// REGKIT_REQUIRE_AZURITE=1 (CI), when they fail. Each test works in a
// container of its own.
const (
	envURL     = "REGKIT_AZURE_BLOB_URL"
	envAccount = "REGKIT_AZURE_ACCOUNT"
	envKey     = "REGKIT_AZURE_KEY"
	envRequire = "REGKIT_REQUIRE_AZURITE"
	// Azurite's well-known development account and key.
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	azuriteVer = "3.37.0"
)

// server is what TestMain found. Tests only read it.
var server struct {
	url     string // service URL, ending in "/"
	account string
	key     string
	reason  string // why url is empty
	azurite *azurite
}

func TestMain(m *testing.M) {
	code := func() int {
		if u := os.Getenv(envURL); u != "" {
			server.url = strings.TrimSuffix(u, "/") + "/"
			server.account, server.key = os.Getenv(envAccount), os.Getenv(envKey)
			return m.Run()
		}
		a, err := startAzurite()
		if err != nil {
			server.reason = err.Error()
			if os.Getenv(envRequire) == "1" {
				fmt.Fprintf(os.Stderr, "%s=1 and no Azurite: %v\n", envRequire, err)
				return 1
			}
			return m.Run()
		}
		defer a.stop()
		server.azurite = a
		server.url = a.url()
		server.account, server.key = devAccount, devKey
		return m.Run()
	}()
	os.Exit(code)
}

// need skips the test (fails it when REGKIT_REQUIRE_AZURITE=1) when there
// is no Blob service.
func need(tb testing.TB) {
	tb.Helper()
	if server.url == "" {
		msg := fmt.Sprintf("no Blob service: set %s (and %s, %s), or run .ci/azurite.sh so the test can start Azurite: %s",
			envURL, envAccount, envKey, server.reason)
		if os.Getenv(envRequire) == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
}

// azurite is a private azurite-blob process.
type azurite struct {
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (a *azurite) url() string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s/", a.port, devAccount)
}

// azuriteBin finds the azurite-blob that .ci/azurite.sh installs.
func azuriteBin() (string, error) {
	tools := os.Getenv("REGKIT_TOOLS")
	if tools == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		tools = filepath.Join(home, ".cache", "regkit-tools")
	}
	bin := filepath.Join(tools, "azurite-"+azuriteVer, "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("azurite-blob not installed (run .ci/azurite.sh): %w", err)
	}
	return bin, nil
}

func startAzurite() (*azurite, error) {
	bin, err := azuriteBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "regkit-azurite-")
	if err != nil {
		return nil, err
	}
	a := &azurite{bin: bin, dir: dir}
	if err := a.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return a, nil
}

// start runs azurite-blob on a free port (the same one again after a
// stop, so clients keep working) and waits until it answers.
func (a *azurite) start() error {
	if a.port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		a.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	log, err := os.OpenFile(filepath.Join(a.dir, "azurite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	a.cmd = exec.Command(a.bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(a.port),
		"--location", filepath.Join(a.dir, "data"), "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry")
	a.cmd.Stdout, a.cmd.Stderr = log, log
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		log.Close()
		return err
	}
	a.done = make(chan struct{})
	go func() { a.cmd.Wait(); log.Close(); close(a.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			out, _ := os.ReadFile(filepath.Join(a.dir, "azurite.log"))
			return fmt.Errorf("azurite-blob exited: %s", out)
		default:
		}
		resp, err := http.Get(a.url() + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.kill()
	return errors.New("azurite-blob did not answer within 60s")
}

// kill stops the process group (node and its children).
func (a *azurite) kill() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-a.done
	a.cmd = nil
}

func (a *azurite) stop() {
	a.kill()
	os.RemoveAll(a.dir)
}

// credential is the shared key of the test account.
func credential(tb testing.TB) *service.SharedKeyCredential {
	tb.Helper()
	cred, err := service.NewSharedKeyCredential(server.account, server.key)
	if err != nil {
		tb.Fatalf("shared key: %v", err)
	}
	return cred
}

// clientOptions retry briefly: a stopped emulator fails fast.
func clientOptions() *container.ClientOptions {
	return &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond},
	}}
}

// newContainer returns a client of a fresh container, deleted at the end.
func newContainer(tb testing.TB) *container.Client {
	tb.Helper()
	need(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "regkit-" + hex.EncodeToString(b[:])
	c := containerClient(tb, name)
	tb.Cleanup(func() {
		if server.url != "" {
			_, _ = c.Delete(context.Background(), nil)
		}
	})
	return c
}

// containerClient returns a new client of the container name.
func containerClient(tb testing.TB, name string) *container.Client {
	tb.Helper()
	c, err := container.NewClientWithSharedKeyCredential(server.url+name, credential(tb), clientOptions())
	if err != nil {
		tb.Fatalf("container client: %v", err)
	}
	return c
}

// containerName returns the last path element of a container URL.
func containerName(u string) string {
	u = strings.TrimSuffix(u, "/")
	return u[strings.LastIndex(u, "/")+1:]
}
