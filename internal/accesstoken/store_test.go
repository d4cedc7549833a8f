package accesstoken_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestConvKeysOverStore verifies tokens signed with API keys stored the way Parley stores them
// (conv.Service.PutAPIKey), on every store engine.
func TestConvKeysOverStore(t *testing.T) {
	const (
		acct1 = "AC0123456789abcdef0123456789abcdef"
		acct2 = "AC22222222222222222222222222222222"
		key1  = "SK0123456789abcdef0123456789abcdef"
		key2  = "SK22222222222222222222222222222222"
		svc   = "IS0123456789abcdef0123456789abcdef"
	)
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		st := e.Open(t)
		s := conv.NewService(st, conv.Options{})
		for _, a := range []string{acct1, acct2} {
			if _, err := s.EnsureAccount(ctx, a, "auth-token-"+a[2:8]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutAPIKey(ctx, acct1, key1, "secret-one"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAPIKey(ctx, acct2, key2, "secret-two"); err != nil {
			t.Fatal(err)
		}
		keys := accesstoken.ConvKeys{Store: st}
		now := time.Now()
		v := accesstoken.NewVerifier(keys, func() time.Time { return now })

		tok, err := accesstoken.MintWithKey(ctx, keys, key1, "alice", svc, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(ctx, tok)
		if err != nil || c.AccountSid != acct1 || c.Identity != "alice" {
			t.Fatalf("%+v %v", c, err)
		}
		// Key 2 belongs to account 2: a token claiming account 1 with it is refused.
		forged, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct1, KeySid: key2, KeySecret: "secret-two", Identity: "alice",
			Chat: accesstoken.ChatGrant{ServiceSid: svc}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, forged); accesstoken.CodeOf(err) != accesstoken.CodeIssuerSubject {
			t.Fatalf("key of another account: %v", err)
		}
		if _, err := accesstoken.MintWithKey(ctx, keys, "SK99999999999999999999999999999999", "alice", svc, 0, now); accesstoken.CodeOf(err) != accesstoken.CodeIssuerSubject {
			t.Fatalf("unknown key: %v", err)
		}
	})
}
