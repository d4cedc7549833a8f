// Package nodesdk_test runs the official twilio-node SDK (pinned in package.json) against
// Parley's real API: the JavaScript examples of the Participant resource page verbatim
// (seed.test.js) and further SDK behaviour (participants.test.js), once per store engine.
//
// Setup: npm ci --prefix tests/nodesdk
// Run:   go test -race -count=1 -v ./tests/nodesdk/
//
// Without node or tests/nodesdk/node_modules/twilio the test skips; set PARLEY_REQUIRE_NODE=1
// (CI) to make that a failure instead.
package nodesdk_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// nodeTimeout bounds one `node --test` run (both files, one engine).
const nodeTimeout = 3 * time.Minute

// setupHint tells how to install the SDK.
const setupHint = "run `npm ci --prefix tests/nodesdk` (Node.js >= 20) to enable the twilio-node SDK tests"

// requireNode reports whether missing node/npm dependencies must fail the test (CI).
func requireNode() bool { return os.Getenv("PARLEY_REQUIRE_NODE") == "1" }

// nodeOrSkip returns the node binary, skipping (or failing, under PARLEY_REQUIRE_NODE=1) when
// node or the installed twilio package is missing.
func nodeOrSkip(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if requireNode() {
			t.Fatalf(format+" (PARLEY_REQUIRE_NODE=1); "+setupHint, args...)
		}
		t.Skipf(format+"; "+setupHint, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH: %v", err)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "twilio", "package.json")); err != nil {
		missing("tests/nodesdk/node_modules/twilio is missing: %v", err)
	}
	return node
}

// testFiles lists the node test files of this directory, sorted.
func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.test.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no *.test.js files in tests/nodesdk")
	}
	sort.Strings(files)
	return files
}

func TestTwilioNodeSDK(t *testing.T) {
	node := nodeOrSkip(t)
	files := testFiles(t)
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := testserver.New(t, e)
			runNode(t, node, files, map[string]string{
				"PARLEY_URL":         srv.URL,
				"TWILIO_ACCOUNT_SID": testserver.AccountSid,
				"TWILIO_AUTH_TOKEN":  testserver.AuthToken,
				// A second account, for suites that change account-wide settings
				// (config.test.js) without affecting the files running beside them.
				"TWILIO_ACCOUNT2_SID": testserver.Account2Sid,
				"TWILIO_AUTH2_TOKEN":  testserver.Auth2Token,
				"TZ":                  "UTC",
			})
		})
	}
}

// runNode runs `node --test files...` in this directory with env added to the environment,
// streaming its output into t.Log line by line; a non-zero exit fails t.
func runNode(t *testing.T, node string, files []string, env map[string]string) {
	t.Helper()
	timeout := nodeTimeout
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - 10*time.Second; left < timeout {
			timeout = max(left, 10*time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	args := append([]string{"--test", "--test-reporter=spec", "--test-timeout=60000"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = mergeEnv(os.Environ(), env)
	cmd.Env = append(cmd.Env, "NO_COLOR=1", "FORCE_COLOR=0")
	out := &lineLogger{t: t}
	cmd.Stdout = out // one writer for both streams: exec serialises the writes
	cmd.Stderr = out
	cmd.WaitDelay = 10 * time.Second
	killGroupOnCancel(cmd)

	t.Logf("running: node %s (PARLEY_URL=%s)", strings.Join(args, " "), env["PARLEY_URL"])
	start := time.Now()
	err := cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %v: %v", timeout, err)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("node --test failed (exit code %d after %v); see the output above", exit.ExitCode(), time.Since(start).Round(time.Millisecond))
	case err != nil:
		t.Fatalf("node --test: %v", err)
	}
	t.Logf("node --test passed in %v", time.Since(start).Round(time.Millisecond))
}

// mergeEnv returns base with the keys of extra replaced or added.
func mergeEnv(base []string, extra map[string]string) []string {
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := extra[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

// lineLogger is an io.Writer that logs each complete line with t.Log.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(l.buf.Next(i+1)), "\r\n")
		l.t.Log(line)
	}
	return len(p), nil
}

// flush logs a trailing partial line.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.buf.String())
		l.buf.Reset()
	}
}
