package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for schema set-up
)

// server is a process under test.
type server struct {
	name  string
	cmd   *exec.Cmd
	addr  string // host:port
	pprof string // host:port of net/http/pprof, when enabled
	exit  chan error

	mu     sync.Mutex
	banner []string // the first lines of its standard output (parley serve's banner)
}

var listenRE = regexp.MustCompile(`listening on http://(\S+)`)

// startProcess runs bin with args and waits (up to a minute) for its "listening on" line.
func startProcess(name, bin string, args []string, stderr io.Writer) (*server, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd, exit: make(chan error, 1)}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.mu.Lock()
			if len(s.banner) < 32 {
				s.banner = append(s.banner, sc.Text())
			}
			s.mu.Unlock()
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { s.exit <- cmd.Wait() }()
	timeout := time.After(time.Minute)
	for s.addr == "" {
		select {
		case l := <-lines:
			if m := listenRE.FindStringSubmatch(l); m != nil {
				s.addr = m[1]
			}
		case err := <-s.exit:
			return nil, fmt.Errorf("%s exited before listening: %v", name, err)
		case <-timeout:
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("%s did not start listening within a minute", name)
		}
	}
	return s, nil
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (s *server) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// stop ends the process (SIGTERM, then SIGKILL after 10s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// buildParley compiles ./cmd/parley into dir and returns the binary's path.
func buildParley(dir string) (string, error) {
	bin := filepath.Join(dir, "parley")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/parley (run parley-bench from the repository root, or pass -parley): %v\n%s", err, out)
	}
	return bin, nil
}

// startParley starts "parley serve" on db with the bench account.
func startParley(bin, db string, pprof bool, stderr io.Writer, extra ...string) (*server, error) {
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-account", benchAccount + ":" + benchToken, "-log-level", "warn"}, extra...)
	var pp string
	if pprof {
		var err error
		if pp, err = freeAddr(); err != nil {
			return nil, err
		}
		args = append(args, "-pprof-addr", pp)
	}
	s, err := startProcess("parley", bin, args, stderr)
	if err != nil {
		return nil, err
	}
	s.pprof = pp
	return s, nil
}

// startBare starts this program as the bare handler (-bare-server).
func startBare(stderr io.Writer) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startProcess("bare", self, []string{"-bare-server"}, stderr)
}

// cannedParticipant is the bare handler's body: a participant as Parley writes it, with the
// harness's ~100-byte attributes (about 600 bytes in all).
var cannedParticipant = `{"account_sid":"AC0123456789abcdef0123456789abcdef","conversation_sid":"CH0123456789abcdef0123456789abcdef",` +
	`"sid":"MB0123456789abcdef0123456789abcdef","identity":"bench-000001","attributes":"` + escapedAttrs + `",` +
	`"messaging_binding":null,"role_sid":"RL0123456789abcdef0123456789abcdef","date_created":"2015-12-16T22:18:37Z",` +
	`"date_updated":"2015-12-16T22:18:37Z","url":"http://127.0.0.1:7401/v1/Conversations/CH0123456789abcdef0123456789abcdef/Participants/MB0123456789abcdef0123456789abcdef",` +
	`"last_read_message_index":null,"last_read_timestamp":null}`

// benchAttrs are the attributes every harness participant gets (so Parley's body is ~600 bytes).
const benchAttrs = `{"team":"support","tier":"gold","locale":"en-GB","tags":["bench","load"],"seq":123456}`

var escapedAttrs = strings.ReplaceAll(benchAttrs, `"`, `\"`)

// bareHandler is the comparison server: a Basic auth check (constant time), the form body
// read for POSTs, and the canned ~600-byte participant (201 for a create, 204 for a delete).
func bareHandler(user, pass string) http.Handler {
	body := []byte(cannedParticipant)
	unauthorized := []byte(`{"code":20003,"message":"Authentication Error - invalid username","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
			h.Set("Content-Length", strconv.Itoa(len(unauthorized)))
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(unauthorized)
			return
		}
		status := http.StatusOK
		switch r.Method {
		case "POST":
			_ = r.ParseForm()
			if strings.HasSuffix(r.URL.Path, "/Participants") {
				status = http.StatusCreated
			}
		case "DELETE":
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// serveBare runs the bare handler on a free loopback port with Parley's server settings.
func serveBare() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("bare handler listening on http://%s\n", ln.Addr())
	bare := bareHandler(benchAccount, benchToken)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/echo" { // the -chat mode's WebSocket baseline
			echoHandler(w, r)
			return
		}
		bare.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	return srv.Serve(ln)
}

// pgSchema creates a fresh schema on the PostgreSQL database base names and returns the URL
// selecting it and a function dropping it.
func pgSchema(base string) (string, func() error, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "bench_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		defer db.Close()
		_, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		return err
	}
	return u.String(), drop, nil
}
