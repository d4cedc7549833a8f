package chatsdk_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestChatFlows runs flows.test.js: the client SDK (3.x and 2.x) and twilio-node's REST client
// against one Parley server, the gateway mounted by the composition root, on SQLite and (when
// PARLEY_TEST_POSTGRES_URL is set) PostgreSQL.
func TestChatFlows(t *testing.T) {
	node := nodeOrSkip(t)
	storetest.Each(t, func(t *testing.T, e storetest.Engine) { runFlows(t, node, e.Open(t)) })
}

func runFlows(t *testing.T, node string, st store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a, err := app.New(ctx, app.Config{TimerInterval: -1}, app.Options{Store: st})
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

// TestReplicas runs replicas.test.js against two servers on one PostgreSQL schema, whose Sync
// fan-outs poll only once an hour: only LISTEN/NOTIFY can carry replica A's change to B's
// client in time (the node test would time out otherwise).
func TestReplicas(t *testing.T) {
	node := nodeOrSkip(t)
	_, schemaURL := storetest.PostgresSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var servers [2]*httptest.Server
	var apps [2]*app.App
	for i := range apps {
		a, err := app.New(ctx, app.Config{DB: schemaURL, TimerInterval: -1}, app.Options{SyncPoll: time.Hour, WebhookPoll: time.Hour, DeliveryPoll: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		a.Start(ctx)
		apps[i] = a
		servers[i] = httptest.NewServer(a.Handler())
		defer servers[i].Close()
	}
	acct := apps[0].Accounts[0]
	if err := apps[0].Service.PutAPIKey(ctx, acct.Sid, keySid, keySecret); err != nil {
		t.Fatal(err)
	}
	svc, err := apps[0].Service.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-timeout=90000", "replicas.test.js")
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL=ws"+strings.TrimPrefix(servers[1].URL, "http")+gateway.Path, "PARLEY_URL="+servers[0].URL,
		"ACCOUNT_SID="+acct.Sid, "AUTH_TOKEN="+acct.AuthToken, "KEY_SID="+keySid, "KEY_SECRET="+keySecret,
		"SERVICE_SID="+svc.Sid, "NO_COLOR=1", "FORCE_COLOR=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	t.Logf("node output:\n%s", out.String())
	if err != nil {
		t.Fatalf("node --test failed: %v", err)
	}
}
