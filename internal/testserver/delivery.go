package testserver

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
)

// Carrier is the test server's SMS/WhatsApp carrier: the outbox (as "parley serve" uses by
// default) unless a test sets another one.
type Carrier struct {
	mu sync.Mutex
	c  delivery.Carrier
}

// Set makes c the carrier of the following deliveries.
func (c *Carrier) Set(x delivery.Carrier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c = x
}

// Send hands o to the current carrier.
func (c *Carrier) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	c.mu.Lock()
	x := c.c
	c.mu.Unlock()
	return x.Send(ctx, o)
}

// testLog writes log lines to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
