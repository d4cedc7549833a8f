package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Defaults of Options.
const (
	DefaultTimeout      = 5 * time.Second // Twilio's webhook timeout
	DefaultMaxAttempts  = 6
	DefaultBackoff      = 5 * time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	DefaultPollInterval = time.Second
	DefaultBatch        = 32
	DefaultConcurrency  = 8
	DefaultRetention    = 7 * 24 * time.Hour
	// pruneEvery is how often finished deliveries older than the retention are deleted.
	pruneEvery = time.Hour
	// maxAnswerBytes is how much of an answer is read (and discarded) before closing it.
	maxAnswerBytes = 64 << 10
)

// Queue is what the Dispatcher needs of the domain: the webhook deliveries the Service wrote
// in the transactions of the changes, and the recording of their outcomes (*conv.Service
// implements it). Settling a delivery whose lease was lost returns conv.ErrNotFound (wrapped).
type Queue interface {
	// NextWebhookDeliveryDue returns the earliest due time of a pending delivery (false: none).
	NextWebhookDeliveryDue(ctx context.Context) (time.Time, bool, error)
	// ClaimWebhookDeliveries leases up to limit due deliveries to owner until now+lease.
	ClaimWebhookDeliveries(ctx context.Context, now time.Time, owner string, limit int, lease time.Duration) ([]*conv.WebhookDelivery, error)
	// SettleWebhookDelivery records the outcome of an attempt of claimed delivery w and, in
	// the same transaction, the attempt's entry a of the delivery log (request as sent,
	// answer excerpt or error, duration).
	SettleWebhookDelivery(ctx context.Context, w *conv.WebhookDelivery, owner string, a *conv.WebhookAttempt) error
	// AccountAuthToken returns the token that signs the account's webhooks (conv.ErrNotFound:
	// the account is gone).
	AccountAuthToken(ctx context.Context, accountSid string) (string, error)
	// PruneWebhookDeliveries deletes finished deliveries last updated before before.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Options configure a Dispatcher; zero values get the defaults.
type Options struct {
	// Client sends the requests (default: a client that follows no redirects). Each request
	// is bounded by Timeout through its context.
	Client *http.Client
	// Clock is the time source for due dates, leases and the delivery log (default time.Now).
	Clock func() time.Time
	// Timeout bounds one attempt: connecting, sending and reading the answer (default 5 s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one delivery, the first included (default 6).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles after each further one,
	// up to MaxBackoff (defaults 5 s and 10 min).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// PollInterval is how often the outbox is checked without a wake-up (default 1 s): for
	// retries falling due and for deliveries other replicas enqueued.
	PollInterval time.Duration
	// Batch is how many deliveries one claim takes (default 32); Concurrency how many
	// requests are in flight at once (default 8).
	Batch       int
	Concurrency int
	// Retention is how long delivered and failed deliveries stay in the delivery log
	// (default 7 days; negative keeps them forever).
	Retention time.Duration
	// Owner names this dispatcher in leases (default: random).
	Owner string
	// Wake, when set, makes the dispatcher look at the outbox at once (Notifier.C).
	Wake <-chan struct{}
	// Log receives delivery failures (default: discarded).
	Log *slog.Logger
	// Settled, when set, is called after the outcome of each attempt is recorded (the web
	// console's live updates: console.Broker.WebhookSettled).
	Settled func(w *conv.WebhookDelivery)
}

// Dispatcher delivers the post-event webhooks of the outbox: it claims due deliveries (safely
// across replicas), sends each signed with its account's auth token, and records the outcome:
// delivered on a 2xx answer; on a timeout, a connection failure, 408, 429 or 5xx it retries
// with exponential backoff (RetryCount tells the receiver which attempt it sees) until
// MaxAttempts, then gives up (failed); any other answer fails at once. Delivery is at least
// once: a crash during an attempt repeats it when the lease ends.
type Dispatcher struct {
	q         Queue
	o         Options
	wake      chan struct{}
	lastPrune time.Time
}

// NewClient returns the default HTTP client of webhook requests: it follows no redirects.
func NewClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// New returns a Dispatcher sending the deliveries of q; start it with Run.
func New(q Queue, o Options) *Dispatcher {
	if o.Client == nil {
		o.Client = NewClient()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Owner = "wd-" + hex.EncodeToString(b[:])
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Dispatcher{q: q, o: o, wake: make(chan struct{}, 1)}
}

// Notifier is the Service's EventSink that wakes a Dispatcher (Options.Wake = C()) after a
// committed change that may have webhooks: the change's deliveries are already in the outbox.
type Notifier struct{ c chan struct{} }

// NewNotifier returns a Notifier.
func NewNotifier() *Notifier { return &Notifier{c: make(chan struct{}, 1)} }

// Publish signals C when e may have webhook deliveries.
func (n *Notifier) Publish(_ context.Context, e conv.Event) {
	if e.FiresWebhooks() {
		select {
		case n.c <- struct{}{}:
		default:
		}
	}
}

// C is the channel a Dispatcher waits on (Options.Wake).
func (n *Notifier) C() <-chan struct{} { return n.c }

// Wake makes a running dispatcher look at the outbox now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// lease is how long a claimed delivery stays with this dispatcher: twice the attempt
// timeout, so that it ends only when the attempt surely has.
func (d *Dispatcher) lease() time.Duration { return 2 * d.o.Timeout }

// backoff is the wait after the n-th failed attempt (n >= 1).
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.o.Backoff
	for i := 1; i < n && b < d.o.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.o.MaxBackoff)
}

// Run delivers until ctx is done, then returns (in-flight attempts are cut short and
// rescheduled).
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.o.Log.Warn("webhook dispatcher", slog.Any("err", err))
		}
		d.prune(ctx)
		t := time.NewTimer(d.o.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
			t.Stop()
		case <-d.o.Wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Drain sends every delivery due now, batch after batch, and returns how many attempts it
// made. It returns the first store error.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		now := d.o.Clock()
		due, ok, err := d.q.NextWebhookDeliveryDue(ctx)
		if err != nil {
			return total, err
		}
		if !ok || due.After(now) {
			return total, nil
		}
		batch, err := d.q.ClaimWebhookDeliveries(ctx, now, d.o.Owner, d.o.Batch, d.lease())
		if err != nil {
			return total, err
		}
		if len(batch) == 0 {
			return total, nil // another replica took them
		}
		d.sendAll(ctx, batch)
		total += len(batch)
	}
	return total, nil
}

// sendAll sends a claimed batch: the deliveries of one conversation one after the other (so
// they arrive in the order of the changes), different conversations concurrently.
func (d *Dispatcher) sendAll(ctx context.Context, batch []*conv.WebhookDelivery) {
	var order []string
	groups := map[string][]*conv.WebhookDelivery{}
	for _, w := range batch {
		if _, ok := groups[w.ConversationSid]; !ok {
			order = append(order, w.ConversationSid)
		}
		groups[w.ConversationSid] = append(groups[w.ConversationSid], w)
	}
	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, w := range groups[k] {
				d.attempt(ctx, w)
			}
		})
	}
	wg.Wait()
}

// outcome is what one attempt got.
type outcome struct {
	status    int
	err       string
	ok        bool
	retryable bool
	// The request as sent (empty when none was built) and the start of the answer.
	reqURL, reqMethod, reqBody string
	reqHeaders                 map[string]string
	body                       string
}

// attempt makes one attempt of claimed delivery w and records its outcome.
func (d *Dispatcher) attempt(ctx context.Context, w *conv.WebhookDelivery) {
	var out outcome
	start := d.o.Clock()
	if w.Attempts > d.o.MaxAttempts {
		// The previous attempt was cut short (crash) and was the last one.
		out = outcome{err: "the last attempt was interrupted (the server stopped during it)", status: w.LastStatusCode}
	} else {
		out = d.send(ctx, w)
	}
	now := d.o.Clock()
	a := &conv.WebhookAttempt{Attempt: w.Attempts, Date: start.UTC().Truncate(time.Millisecond), RequestURL: out.reqURL,
		RequestMethod: out.reqMethod, RequestHeaders: out.reqHeaders, RequestBody: out.reqBody, ResponseStatus: out.status,
		ResponseBody: out.body, Duration: max(now.Sub(start), 0)}
	if a.RequestURL == "" {
		a.RequestURL, a.RequestMethod = w.URL, w.Method
	}
	w.LastStatusCode, w.LastError, w.DateUpdated = out.status, out.err, now.UTC().Truncate(time.Second)
	switch {
	case out.ok:
		w.Status, w.NextAttemptAt = conv.WebhookDelivered, now
		t := now.UTC().Truncate(time.Second)
		w.DateDelivered = &t
	case ctx.Err() != nil:
		// Shutting down cut the attempt short: it is due again at once (after a restart, or
		// on another replica); its attempt still counts towards MaxAttempts.
		w.Status, w.NextAttemptAt, w.LastError = conv.WebhookPending, now, "interrupted by shutdown: "+out.err
	case !out.retryable || w.Attempts >= d.o.MaxAttempts:
		w.Status, w.NextAttemptAt = conv.WebhookFailed, now
	default:
		w.Status, w.NextAttemptAt = conv.WebhookPending, now.Add(d.backoff(w.Attempts))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	a.Error = w.LastError
	err := d.q.SettleWebhookDelivery(sctx, w, d.o.Owner, a)
	if err == nil && d.o.Settled != nil {
		d.o.Settled(w)
	}
	switch {
	case errors.Is(err, conv.ErrNotFound):
		d.o.Log.Warn("webhook delivery lease lost; another dispatcher retries it", slog.String("sid", w.Sid))
	case err != nil:
		d.o.Log.Error("webhook delivery: recording the outcome failed", slog.String("sid", w.Sid), slog.Any("err", err))
	case !out.ok:
		d.o.Log.Warn("webhook delivery failed", slog.String("sid", w.Sid), slog.String("event", w.EventType),
			slog.String("url", w.URL), slog.Int("attempt", w.Attempts), slog.String("status", w.Status), slog.String("error", out.err))
	default:
		d.o.Log.Debug("webhook delivered", slog.String("sid", w.Sid), slog.String("event", w.EventType), slog.String("url", w.URL))
	}
}

// send makes the HTTP request of w's current attempt.
func (d *Dispatcher) send(ctx context.Context, w *conv.WebhookDelivery) outcome {
	token, err := d.q.AccountAuthToken(ctx, w.AccountSid)
	if err != nil {
		return outcome{err: "account " + w.AccountSid + ": " + err.Error(), retryable: !errors.Is(err, conv.ErrNotFound)}
	}
	params, err := url.ParseQuery(w.Params)
	if err != nil {
		return outcome{err: "stored parameters do not parse: " + err.Error()}
	}
	params.Set("RetryCount", strconv.Itoa(w.Attempts-1))
	rctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := newRequest(rctx, w.Method, w.URL, params, token)
	if err != nil {
		return outcome{err: err.Error()}
	}
	req.Header.Set("I-Twilio-Idempotency-Token", w.Sid)
	// What the log keeps of the request: every header set above (the signature included;
	// the auth token itself is never sent, so never kept) and the form body.
	sent := outcome{reqURL: req.URL.String(), reqMethod: req.Method, reqHeaders: map[string]string{}}
	for k := range req.Header {
		sent.reqHeaders[k] = req.Header.Get(k)
	}
	if req.Method == http.MethodPost {
		sent.reqBody = params.Encode()
	}
	with := func(o outcome) outcome {
		o.reqURL, o.reqMethod, o.reqHeaders, o.reqBody = sent.reqURL, sent.reqMethod, sent.reqHeaders, sent.reqBody
		return o
	}
	resp, err := d.o.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return with(outcome{err: fmt.Sprintf("timeout: no answer within %v", d.o.Timeout), retryable: true})
		}
		return with(outcome{err: err.Error(), retryable: true})
	}
	var excerpt strings.Builder
	_, rerr := io.Copy(&excerpt, io.LimitReader(resp.Body, conv.MaxWebhookAttemptBody))
	if rerr == nil {
		_, rerr = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes-conv.MaxWebhookAttemptBody))
	}
	resp.Body.Close()
	body := strings.ToValidUTF8(excerpt.String(), "\uFFFD")
	if rerr != nil && rctx.Err() != nil {
		return with(outcome{status: resp.StatusCode, body: body, err: fmt.Sprintf("timeout: the answer did not end within %v", d.o.Timeout), retryable: true})
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return with(outcome{status: code, body: body, ok: true})
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return with(outcome{status: code, body: body, err: "HTTP " + strconv.Itoa(code), retryable: true})
	}
	return with(outcome{status: code, body: body, err: "HTTP " + strconv.Itoa(code) + " (not retried)"})
}

// prune deletes finished deliveries older than the retention, at most once per pruneEvery.
func (d *Dispatcher) prune(ctx context.Context) {
	now := d.o.Clock()
	if d.o.Retention < 0 || now.Sub(d.lastPrune) < pruneEvery {
		return
	}
	d.lastPrune = now
	n, err := d.q.PruneWebhookDeliveries(ctx, now.Add(-d.o.Retention))
	if err != nil && ctx.Err() == nil {
		d.o.Log.Warn("webhook delivery log: pruning failed", slog.Any("err", err))
	} else if n > 0 {
		d.o.Log.Debug("webhook delivery log pruned", slog.Int64("deleted", n))
	}
}

// newRequest builds the signed request of a webhook: POST with the parameters as a form
// body, or GET with them appended to the URL's query (signed as the full URL, no body).
func newRequest(ctx context.Context, method, target string, params url.Values, authToken string) (*http.Request, error) {
	var req *http.Request
	var err error
	if strings.EqualFold(method, http.MethodGet) {
		u := target
		if enc := params.Encode(); enc != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + enc
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil); err != nil {
			return nil, err
		}
		req.Header.Set("X-Twilio-Signature", Sign(authToken, u, nil))
	} else {
		if req, err = http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode())); err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", Sign(authToken, target, params))
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	return req, nil
}

var _ conv.EventSink = (*Notifier)(nil)
