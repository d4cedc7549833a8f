// Package chatsdk_test runs Twilio's unmodified Conversations client SDK
// (@twilio/conversations 3.x and 2.x, pinned in package.json) against the twilsock gateway.
//
// Setup: npm ci --prefix tests/chatsdk
// Run:   go test -count=1 -v ./tests/chatsdk/ (TestKillNine builds and runs the parley binary)
// TestBrowserMedia also needs Chromium (PARLEY_CHROMIUM, else chromium on PATH); without it the
// test skips unless PARLEY_REQUIRE_BROWSER=1.
//
// Without node or tests/chatsdk/node_modules the test skips; PARLEY_REQUIRE_CHATSDK=1 (CI)
// makes that a failure.
package chatsdk_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/gateway"
)

const (
	accountSid = "AC0123456789abcdef0123456789abcdef"
	keySid     = "SK0123456789abcdef0123456789abcdef"
	keySecret  = "chatsdk-test-secret"
	serviceSid = "IS0123456789abcdef0123456789abcdef"
)

const setupHint = "run `npm ci --prefix tests/chatsdk` (Node.js >= 20) to enable the Conversations SDK tests"

func nodeOrSkip(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("PARLEY_REQUIRE_CHATSDK") == "1" {
			t.Fatalf(format+" (PARLEY_REQUIRE_CHATSDK=1); "+setupHint, args...)
		}
		t.Skipf(format+"; "+setupHint, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH: %v", err)
	}
	for _, p := range []string{"@twilio/conversations", "conversations2", "twilio"} {
		if _, err := os.Stat(filepath.Join("node_modules", p, "package.json")); err != nil {
			missing("tests/chatsdk/node_modules/%s is missing: %v", p, err)
		}
	}
	return node
}

type keys struct{}

func (keys) LookupAPIKey(_ context.Context, sid string) (string, string, error) {
	if sid != keySid {
		return "", "", accesstoken.ErrKeyNotFound
	}
	return accountSid, keySecret, nil
}

// recorder records the upstream requests the SDK sends and answers them all with 404.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) ServeUpstream(_ context.Context, req *gateway.Request) *gateway.Response {
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+req.Service+" "+req.Path+" as "+req.Principal.Identity)
	r.mu.Unlock()
	return gateway.ErrorResponse(404, 20404, "The requested resource "+req.Path+" was not found")
}

func TestConversationsSDK(t *testing.T) {
	node := nodeOrSkip(t)
	rec := &recorder{}
	gw := gateway.New(accesstoken.NewVerifier(keys{}, time.Now), rec, nil, gateway.Options{})
	srv := httptest.NewServer(gw)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-timeout=60000", "sdk.test.js")
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL=ws"+strings.TrimPrefix(srv.URL, "http")+gateway.Path,
		"ACCOUNT_SID="+accountSid, "KEY_SID="+keySid, "KEY_SECRET="+keySecret, "SERVICE_SID="+serviceSid,
		"NO_COLOR=1", "FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	t.Logf("node output:\n%s", out.String())
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node did not finish: %v", err)
	case errors.As(err, &exit):
		t.Fatalf("node --test failed (exit %d)", exit.ExitCode())
	case err != nil:
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, want := range []string{
		"GET aim /Client/v2/Configuration as alice-3.x",
		"GET aim /Client/v2/Configuration as alice-2.x",
	} {
		found := false
		for _, s := range rec.seen {
			found = found || s == want
		}
		if !found {
			t.Errorf("the gateway never saw %q; it saw %q", want, rec.seen)
		}
	}
	shutdownCtx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if err := gw.Shutdown(shutdownCtx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
