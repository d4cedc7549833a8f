package chatsdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// TestKillNine runs kill.test.js against a real "parley serve" that the node test has killed
// with SIGKILL and restarted (on the same port and database) while its SDK clients stay
// connected: they reconnect by themselves, every acknowledged message is there, and new ones
// arrive live. The node test asks for the kill and the restart over a control endpoint of this
// harness (POST /kill, POST /start); both run on the test goroutine.
func TestKillNine(t *testing.T) {
	node := nodeOrSkip(t)
	t.Run("sqlite", func(t *testing.T) {
		runKill(t, node, filepath.Join(t.TempDir(), "kill.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		_, schemaURL := storetest.PostgresSchema(t)
		runKill(t, node, schemaURL)
	})
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

type controlReq struct {
	op    string
	reply chan string
}

func runKill(t *testing.T, node, db string) {
	bin := proctest.Build(t)
	addr := freeAddr(t)
	args := []string{"-db", db, "-addr", addr, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	srv := proctest.Start(t, bin, args...)
	if srv.Addr != addr {
		t.Fatalf("server listens on %s, not on %s", srv.Addr, addr)
	}

	quit := make(chan struct{})
	reqs := make(chan controlReq)
	ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || (r.URL.Path != "/kill" && r.URL.Path != "/start") {
			http.Error(w, "POST /kill or /start", http.StatusNotFound)
			return
		}
		req := controlReq{op: r.URL.Path, reply: make(chan string, 1)}
		select {
		case reqs <- req:
		case <-quit:
			http.Error(w, "test ended", http.StatusServiceUnavailable)
			return
		}
		select {
		case msg := <-req.reply:
			fmt.Fprintln(w, msg)
		case <-quit:
			http.Error(w, "test ended", http.StatusServiceUnavailable)
		}
	}))
	defer ctl.Close()
	defer close(quit) // runs before ctl.Close, which waits for handlers

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", "--test-timeout=180000", "kill.test.js")
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL=ws://"+addr+gateway.Path, "PARLEY_URL=http://"+addr, "CONTROL_URL="+ctl.URL,
		"ACCOUNT_SID="+srv.Sid, "AUTH_TOKEN="+srv.Token, "NO_COLOR=1", "FORCE_COLOR=0")
	var out lockedOut
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cancel()
		<-done
	}()
	defer func() { t.Logf("node output:\n%s", out.String()) }()

	kills := 0
	var err error
loop:
	for {
		select {
		case err = <-done:
			done <- err // for the deferred wait
			break loop
		case req := <-reqs:
			switch req.op {
			case "/kill":
				srv.Kill()
				kills++
				req.reply <- "killed"
			case "/start":
				if srv.Alive() {
					req.reply <- "already running"
					continue
				}
				srv = proctest.Start(t, bin, args...)
				req.reply <- "started"
			}
		}
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node did not finish: %v", err)
	case errors.As(err, &exit):
		t.Fatalf("node kill.test.js failed (exit %d); server stderr:\n%s", exit.ExitCode(), srv.Stderr())
	case err != nil:
		t.Fatal(err)
	}
	if kills == 0 {
		t.Fatal("the node test never killed the server")
	}
	if !srv.Alive() {
		t.Fatalf("the restarted server died; stderr:\n%s", srv.Stderr())
	}
	if s := srv.Stderr(); strings.Contains(s, "panic") {
		t.Errorf("server stderr has a panic:\n%s", s)
	}
}

// lockedOut collects a child's output written from several goroutines.
type lockedOut struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedOut) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedOut) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
