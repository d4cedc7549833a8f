package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Result is what a carrier reports for a message it accepted.
type Result struct {
	// ChannelMessageSid is the carrier's id of the message (SM..., WA...); "" lets Parley
	// make one.
	ChannelMessageSid string
	// Status is conv.DeliverySent (accepted, the default) or conv.DeliveryDelivered.
	Status string
}

// Carrier sends SMS, WhatsApp and other non-chat messages. Send returns an error when the
// message was not accepted: a *PermanentError when trying again cannot help, anything else is
// retried with back-off. Send may be called again for the same delivery (after a crash or a
// lost lease); o.Delivery.Sid identifies it.
type Carrier interface {
	Send(ctx context.Context, o *conv.Outbound) (Result, error)
}

// PermanentError is a carrier failure that is not retried.
type PermanentError struct{ Err error }

// Error returns the cause's message.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Outbox is the default carrier: it sends nothing and records each message in the store's
// outbox, which GET /parley/v1/Outbox lists. It records a delivery at most once, however often
// Send is called for it.
type Outbox struct {
	rec Recorder
}

// Recorder records outbound messages in the outbox (*conv.Service implements it): once per
// delivery, returning the existing entry when called again for the same one.
type Recorder interface {
	RecordOutbox(ctx context.Context, o *conv.Outbound) (*conv.OutboxEntry, error)
}

// NewOutbox returns the log carrier over rec.
func NewOutbox(rec Recorder) *Outbox { return &Outbox{rec: rec} }

// Send records o in the outbox and returns the entry's sid with status sent.
func (b *Outbox) Send(ctx context.Context, o *conv.Outbound) (Result, error) {
	e, err := b.rec.RecordOutbox(ctx, o)
	if err != nil {
		return Result{}, err
	}
	return Result{ChannelMessageSid: e.Sid, Status: conv.DeliverySent}, nil
}

// Forwarder is the carrier that POSTs each message as an application/x-www-form-urlencoded
// form to a configured URL (a gateway of your own). See Send for the protocol.
type Forwarder struct {
	url    string
	client *http.Client
	// mediaURL, when set, makes the MediaUrl of a message's media (WithMediaURL).
	mediaURL func(ctx context.Context, mediaSid string) (string, error)
}

// WithMediaURL makes f send MediaUrl, from fn (a temporary content URL), with each message
// that has media.
func (f *Forwarder) WithMediaURL(fn func(ctx context.Context, mediaSid string) (string, error)) *Forwarder {
	f.mediaURL = fn
	return f
}

// NewForwarder returns a Forwarder posting to target (an absolute http or https URL) with
// client (nil: a client with a 10 s timeout). It returns an error for any other URL.
func NewForwarder(target string, client *http.Client) (*Forwarder, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("carrier URL %q must be an absolute http:// or https:// URL", target)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Forwarder{url: target, client: client}, nil
}

// forwardResponse is the optional JSON body of a gateway's 2xx answer.
type forwardResponse struct {
	Sid    string `json:"sid"`
	Status string `json:"status"`
}

// Send POSTs the message with the form fields DeliverySid, MessageSid, AccountSid,
// ChatServiceSid, ConversationSid, ParticipantSid, Channel, To, From, Author, Body, Index and
// Attributes (a message with media: MediaSid and, with WithMediaURL, MediaUrl, and no Body, as
// Twilio sends one media item and drops the text for SMS and WhatsApp), and the header Idempotency-Key: <DeliverySid> (a retried delivery carries the
// same key). A 2xx answer accepts it; its body may be JSON {"sid": "SM…", "status": "sent" |
// "delivered"}. A 4xx answer other than 408 and 429 fails the delivery for good; any other
// answer or a transport error is retried.
func (f *Forwarder) Send(ctx context.Context, o *conv.Outbound) (Result, error) {
	d, m := o.Delivery, o.Message
	form := url.Values{
		"DeliverySid": {d.Sid}, "MessageSid": {d.MessageSid}, "AccountSid": {d.AccountSid}, "ChatServiceSid": {d.ServiceSid},
		"ConversationSid": {d.ConversationSid}, "ParticipantSid": {d.ParticipantSid}, "Channel": {d.Channel},
		"To": {d.Address}, "From": {d.ProxyAddress}, "Author": {m.Author}, "Index": {strconv.FormatInt(m.Index, 10)},
		"Attributes": {m.Attributes},
	}
	mediaSid, text := conv.ChannelMedia(m) // one media item and no text when it has media
	if text != nil {
		form.Set("Body", *text)
	}
	if mediaSid != "" {
		form.Set("MediaSid", mediaSid)
		if f.mediaURL != nil {
			u, err := f.mediaURL(ctx, mediaSid)
			if err != nil {
				return Result{}, err
			}
			form.Set("MediaUrl", u)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, strings.NewReader(form.Encode()))
	if err != nil {
		return Result{}, &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", d.Sid)
	req.Header.Set("User-Agent", "parley-carrier-forwarder")
	resp, err := f.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("forward to %s: %w", f.url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		var fr forwardResponse
		if len(body) > 0 && json.Unmarshal(body, &fr) == nil {
			st := conv.DeliverySent
			if fr.Status == conv.DeliveryDelivered {
				st = conv.DeliveryDelivered
			}
			return Result{ChannelMessageSid: fr.Sid, Status: st}, nil
		}
		return Result{Status: conv.DeliverySent}, nil
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return Result{}, &PermanentError{fmt.Errorf("forward to %s: %s: %s", f.url, resp.Status, abbreviate(body))}
	default:
		return Result{}, fmt.Errorf("forward to %s: %s: %s", f.url, resp.Status, abbreviate(body))
	}
}

// abbreviate returns at most 200 bytes of b as text.
func abbreviate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// isPermanent reports whether err is a *PermanentError.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
