package cli

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store"
)

// TestToken: parley token prints a token the gateway's verifier accepts, for the identity and
// the account's default service, signed with the signing key kept in the store.
func TestToken(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "parley.db")
	var out bytes.Buffer
	if err := Run(ctx, "", []string{"token", "-db", db, "-identity", "alice", "-ttl", "2h"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := conv.NewService(st, conv.Options{})
	acct, err := svc.EnsureDevAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := svc.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
	c, err := accesstoken.NewVerifier(accesstoken.ConvKeys{Store: st}, time.Now).Verify(ctx, strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity != "alice" || c.Chat.ServiceSid != cs.Sid || c.AccountSid != acct.Sid || c.KeySid != conv.SigningKeySid(acct.Sid) {
		t.Errorf("claims = %+v", c)
	}
	if d := time.Until(c.ExpiresAt); d < 119*time.Minute || d > 2*time.Hour {
		t.Errorf("expires in %s", d)
	}
	// The key is kept: a second token is signed with the same key.
	out.Reset()
	if err := Run(ctx, "", []string{"token", "-db", db, "-identity", "bob"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := accesstoken.NewVerifier(accesstoken.ConvKeys{Store: st}, time.Now).Verify(ctx, strings.TrimSpace(out.String())); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"token", "-db", db}, {"token", "-db", db, "-identity", "a", "-ttl", "25h"},
		{"token", "-db", db, "-identity", "a", "-service", "IS00000000000000000000000000000000"}} {
		if err := Run(ctx, "", bad, env(nil), io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
