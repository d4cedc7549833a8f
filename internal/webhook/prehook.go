package webhook

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Caller makes the pre-event webhook calls of SDK actions (it implements conv.PreHook).
type Caller struct {
	client  *http.Client
	timeout time.Duration
}

// NewCaller returns a Caller sending through client (nil: NewClient()) with a timeout per
// call (0: 5 s).
func NewCaller(client *http.Client, timeout time.Duration) *Caller {
	if client == nil {
		client = NewClient()
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Caller{client: client, timeout: timeout}
}

// CallPreHook sends one signed pre-event webhook request and returns its answer (the changes
// its JSON body, read up to 1 MiB, asks for), or an error when no complete answer came within
// the timeout.
func (c *Caller) CallPreHook(ctx context.Context, r conv.PreHookRequest) (conv.PreHookAnswer, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := newRequest(rctx, r.Method, r.URL, preEventParams(r.Event, r.Changes), r.AuthToken)
	if err != nil {
		return conv.PreHookAnswer{}, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return conv.PreHookAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return conv.PreHookAnswer{}, err
	}
	ans := conv.PreHookAnswer{StatusCode: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		ans.Changes = preAnswerChanges(body)
	}
	return ans, nil
}

var _ conv.PreHook = (*Caller)(nil)
