// Package proctest builds the parley binary and runs "parley serve" processes for tests that
// need a real process: to kill it (SIGKILL), to run several replicas, or to test the HTTP
// server's own settings (timeouts, limits).
package proctest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Fixed credentials tests can pass with -account (alphanumeric, as twilio-go requires).
const (
	AccountSid = "ACcccccccccccccccccccccccccccccccc"
	AuthToken  = "proctesttoken42"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Build compiles github.com/parley-dev/parley/cmd/parley (CGO_ENABLED=0, as released) once
// per test binary and returns its path; it fails t when the build fails. The binary is
// removed by Cleanup (call it from TestMain).
func Build(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "parley-proctest-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "parley")
		cmd := exec.Command("go", "build", "-o", built.path, "github.com/parley-dev/parley/cmd/parley")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// Cleanup removes the binary Build made.
func Cleanup() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// Server is a running "parley serve".
type Server struct {
	Cmd        *exec.Cmd
	URL        string // http://127.0.0.1:port
	Addr       string // 127.0.0.1:port
	Sid, Token string // the banner's first account
	Client     *http.Client

	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

var bannerRE = regexp.MustCompile(`listening on (http://(\S+))`)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the first MiB
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs "bin serve -addr 127.0.0.1:0 args..." and waits (up to 30s) for its banner. The
// process is killed when the test ends. It fails t when the process does not start.
func Start(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	args = append([]string{"serve", "-addr", "127.0.0.1:0", "-log-level", "warn"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	s := &Server{Cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Kill)
	sc := bufio.NewScanner(stdout)
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := bannerRE.FindStringSubmatch(line); m != nil {
			s.URL, s.Addr = m[1], m[2]
		}
		if v, ok := strings.CutPrefix(line, "Account SID: "); ok && s.Sid == "" {
			s.Sid = v
		}
		if v, ok := strings.CutPrefix(line, "Auth Token: "); ok && s.Token == "" {
			s.Token = strings.TrimSpace(v)
			break
		}
	}
	timer.Stop()
	if s.URL == "" || s.Sid == "" || s.Token == "" {
		s.Kill()
		t.Fatalf("parley serve %v did not print its banner; stderr:\n%s", args, s.stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	s.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return s
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.Cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	if s.Client != nil {
		s.Client.CloseIdleConnections()
	}
}

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stderr returns what the process wrote to stderr so far (the first MiB).
func (s *Server) Stderr() string { return s.stderr.String() }

// Do sends a request with the banner's credentials; form, when not nil, is the
// form-encoded body. It returns the status and body, or the transport error.
func (s *Server) Do(ctx context.Context, method, path string, form url.Values) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(s.Sid, s.Token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
