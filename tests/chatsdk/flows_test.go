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
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
)

// TestChatFlows runs flows.test.js: the client SDK (3.x and 2.x) and twilio-node's REST client
// against one Parley server on SQLite, the gateway mounted by the composition root.
func TestChatFlows(t *testing.T) {
	node := nodeOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a, err := app.New(ctx, app.Config{DB: filepath.Join(t.TempDir(), "parley.db"), TimerInterval: -1}, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	acct := a.Accounts[0]
	if err := a.Service.PutAPIKey(ctx, acct.Sid, keySid, keySecret); err != nil {
		t.Fatal(err)
	}
	svc, err := a.Service.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
	if err != nil {
		t.Fatal(err)
	}
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-timeout=90000", "--test-concurrency=1", "flows.test.js")
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL=ws"+strings.TrimPrefix(srv.URL, "http")+gateway.Path, "PARLEY_URL="+srv.URL,
		"ACCOUNT_SID="+acct.Sid, "AUTH_TOKEN="+acct.AuthToken, "KEY_SID="+keySid, "KEY_SECRET="+keySecret,
		"SERVICE_SID="+svc.Sid, "NO_COLOR=1", "FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
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
}
