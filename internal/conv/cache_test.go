package conv_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	acctSid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keySid  = "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// TestLookupCache checks the credentials and service cache: changes made through the Service
// apply at once, changes made behind its back (another replica) once the TTL has passed, and
// a wrong secret is never accepted.
func TestLookupCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		st := e.Open(t)
		clk := &clock{t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
		svc := conv.NewService(st, conv.Options{Clock: clk.now, LookupCacheTTL: 5 * time.Second})
		other := conv.NewService(st, conv.Options{}) // another replica on the same database
		if _, err := svc.EnsureAccount(ctx, acctSid, "one"); err != nil {
			t.Fatal(err)
		}
		if err := svc.PutAPIKey(ctx, acctSid, keySid, "k1"); err != nil {
			t.Fatal(err)
		}
		auth := func(user, pass string, ok bool) {
			t.Helper()
			a, err := svc.Authenticate(ctx, user, pass)
			if ok && (err != nil || a.Sid != acctSid) {
				t.Fatalf("Authenticate(%s, %s): %v, want success", user, pass, err)
			}
			if !ok && err == nil {
				t.Fatalf("Authenticate(%s, %s) succeeded", user, pass)
			}
		}
		auth(acctSid, "one", true)
		auth(keySid, "k1", true)
		auth(acctSid, "wrong", false) // cached entry, wrong token
		auth(keySid, "k2", false)

		// Through this Service: at once.
		if _, err := svc.EnsureAccount(ctx, acctSid, "two"); err != nil {
			t.Fatal(err)
		}
		auth(acctSid, "one", false)
		auth(acctSid, "two", true)
		if err := svc.PutAPIKey(ctx, acctSid, keySid, "k2"); err != nil {
			t.Fatal(err)
		}
		auth(keySid, "k1", false)
		auth(keySid, "k2", true)
		auth(acctSid, "two", true) // cached again (the key change emptied the cache)

		// Through another replica: the new token works at once (a miss reads the store), the
		// old one until the TTL has passed.
		if _, err := other.EnsureAccount(ctx, acctSid, "three"); err != nil {
			t.Fatal(err)
		}
		auth(acctSid, "two", true)
		clk.add(6 * time.Second)
		auth(acctSid, "two", false)
		auth(acctSid, "three", true)

		// Services: a deleted service is gone at once here, after the TTL on another replica.
		sc := conv.Scope{AccountSid: acctSid}
		def, err := svc.ResolveService(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		name := "extra"
		extra, err := svc.CreateService(ctx, acctSid, &name)
		if err != nil {
			t.Fatal(err)
		}
		xs := conv.Scope{AccountSid: acctSid, ServiceSid: extra.Sid}
		if _, err := svc.ResolveService(ctx, xs); err != nil {
			t.Fatal(err)
		}
		if err := other.DeleteService(ctx, acctSid, extra.Sid); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResolveService(ctx, xs); err != nil {
			t.Fatalf("within the TTL the other replica's delete is not seen yet: %v", err)
		}
		clk.add(6 * time.Second)
		if _, err := svc.ResolveService(ctx, xs); err == nil {
			t.Fatal("deleted service still resolves after the TTL")
		}
		if err := svc.DeleteService(ctx, acctSid, def.Sid); err != nil {
			t.Fatal(err)
		}
		again, err := svc.ResolveService(ctx, sc)
		if err != nil || again.Sid == def.Sid {
			t.Fatalf("after deleting the default service: %v, %v; want a new default", again, err)
		}
	})
}
