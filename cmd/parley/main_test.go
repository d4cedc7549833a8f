package main

import (
	"bufio"
	"context"
	"encoding/json"
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

var builtBin struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// buildParley compiles the binary (with CGO_ENABLED=0, as released) once per test run.
func buildParley(t *testing.T) string {
	t.Helper()
	builtBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			builtBin.err = err
			return
		}
		builtBin.path = filepath.Join(dir, "parley")
		cmd := exec.Command("go", "build", "-o", builtBin.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		builtBin.out, builtBin.err = cmd.CombinedOutput()
	})
	if builtBin.err != nil {
		t.Fatalf("go build: %v\n%s", builtBin.err, builtBin.out)
	}
	return builtBin.path
}

type proc struct {
	cmd              *exec.Cmd
	base, sid, token string
}

var bannerRE = regexp.MustCompile(`listening on (http://\S+)`)

// start runs "parley serve" on a free port and waits for its banner.
func start(t *testing.T, bin, db string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", db}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &proc{cmd: cmd}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if m := bannerRE.FindStringSubmatch(line); m != nil {
			p.base = m[1]
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Account SID: "); ok {
			p.sid = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Auth Token:  "); ok {
			p.token = v
			break
		}
	}
	if p.base == "" || p.sid == "" || p.token == "" {
		t.Fatalf("no banner from parley serve (base=%q sid=%q)", p.base, p.sid)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

func (p *proc) do(t *testing.T, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	req.SetBasicAuth(p.sid, p.token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestRestartKeepsDataAndCredentials writes through the HTTP API, kills the server with
// SIGKILL (no chance to flush anything), restarts it on the same file and reads it all back
// with the same generated development credentials.
func TestRestartKeepsDataAndCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildParley(t)
	db := filepath.Join(t.TempDir(), "parley.db")
	p := start(t, bin, db)
	st, c := p.do(t, "POST", "/v1/Conversations", url.Values{"UniqueName": {"durable"}})
	if st != 201 {
		t.Fatalf("create conversation: %d %v", st, c)
	}
	var sids []string
	for i := 0; i < 20; i++ {
		st, m := p.do(t, "POST", "/v1/Conversations/durable/Participants", url.Values{"Identity": {fmt.Sprintf("user-%d", i)}})
		if st != 201 {
			t.Fatalf("create participant: %d %v", st, m)
		}
		sids = append(sids, m["sid"].(string))
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	q := start(t, bin, db)
	if q.sid != p.sid || q.token != p.token {
		t.Fatalf("credentials changed across restart: %s/%s then %s/%s", p.sid, p.token, q.sid, q.token)
	}
	st, list := q.do(t, "GET", "/v1/Conversations/durable/Participants?PageSize=100", nil)
	if st != 200 {
		t.Fatalf("list after restart: %d %v", st, list)
	}
	got := list["participants"].([]any)
	if len(got) != len(sids) {
		t.Fatalf("after SIGKILL and restart: %d participants, want %d", len(got), len(sids))
	}
	for i, x := range got {
		if x.(map[string]any)["sid"] != sids[i] {
			t.Fatalf("participant %d = %v, want %s", i, x, sids[i])
		}
	}
}

// TestGracefulShutdown checks SIGTERM stops the server with exit status 0, also while the web
// console's live stream is open.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildParley(t)
	p := start(t, bin, filepath.Join(t.TempDir(), "parley.db"), "-account", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:secret1")
	if p.sid != "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || p.token != "secret1" {
		t.Fatalf("configured account not used: %s %s", p.sid, p.token)
	}
	if st, _ := p.do(t, "GET", "/v1/Conversations", nil); st != 200 {
		t.Fatalf("list: %d", st)
	}
	req, _ := http.NewRequest("GET", p.base+"/parley/v1/Events", nil)
	req.SetBasicAuth(p.sid, p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: ready" {
	}
	if resp.StatusCode != 200 || sc.Text() != "event: ready" {
		t.Fatalf("console stream: %d %v", resp.StatusCode, sc.Err())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("parley did not stop on SIGTERM")
	}
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := runVersion(&out); err != nil || !strings.HasPrefix(out.String(), "parley ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

// TestVersionBinary checks the built binary's "parley version" prints the module version and
// VCS revision its build information holds (as "go version -m" reads them), not always "dev".
// A binary built outside a VCS checkout (or with -buildvcs=false) has no revision: it says so.
func TestVersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildParley(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	version, rev, dirty, goVersion := "dev", "unknown", "", ""
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && strings.HasSuffix(f[0], ":"):
			goVersion = f[1]
		case len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)":
			version = f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		case len(f) >= 2 && f[0] == "build" && f[1] == "vcs.modified=true":
			dirty = "+dirty"
		}
	}
	want := "parley " + version + " (revision " + rev + dirty + ", " + goVersion + ")"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("parley version printed %q, want %q (from go version -m)", got, want)
	}
}

func runVersion(w io.Writer) error {
	return cliRun(context.Background(), []string{"version"}, w)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin.path != "" {
		os.RemoveAll(filepath.Dir(builtBin.path))
	}
	os.Exit(code)
}
