package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/faults"
	"github.com/parley-dev/parley/internal/reqlog"
	"github.com/parley-dev/parley/internal/streamlimit"
)

// Notifier wakes live streams when chat deliveries may be new (delivery.Hub implements it).
type Notifier interface {
	// Subscribe returns a channel that receives a value whenever chat deliveries in the
	// service may have been added, and that is closed when the notifier shuts down (which
	// ends the stream); cancel releases it.
	Subscribe(serviceSid string) (wake <-chan struct{}, cancel func())
}

// Defaults of ParleyOptions.
const (
	DefaultStreamPoll      = time.Second
	DefaultStreamHeartbeat = 15 * time.Second
	DefaultStreamBatch     = 100
)

// ParleyOptions configure Parley's own endpoints; zero values get the defaults. Their URLs,
// credentials and body limit are the API's (Options).
type ParleyOptions struct {
	// Notifier wakes streams as soon as a message is added (nil: streams only poll).
	Notifier Notifier
	// StreamPoll is how often a stream looks for deliveries without a wake-up (default 1 s;
	// this is what carries messages created by other replicas).
	StreamPoll time.Duration
	// StreamHeartbeat is the interval of keep-alive comments on an idle stream (default 15 s).
	StreamHeartbeat time.Duration
	// StreamBatch is the most events read from the store at once (default 100).
	StreamBatch int
	// Streams counts the server's open live streams against its caps: past the server's a
	// stream is refused with 503 (20503), past the account's with 429 (20429). The
	// composition root shares it with the console's event streams. Nil: one of
	// MaxStreams and MaxStreamsPerAccount for these streams alone.
	Streams *streamlimit.Limiter
	// MaxStreams caps the live streams open at once on this server when Streams is nil
	// (default DefaultMaxStreams; negative: no cap).
	MaxStreams int
	// MaxStreamsPerAccount caps one account's open streams when Streams is nil (default
	// DefaultMaxStreamsPerAccount; negative: no cap).
	MaxStreamsPerAccount int
	// StreamWorkers is how many streams may read or settle deliveries at once (default
	// DefaultStreamWorkers); the others wait their turn.
	StreamWorkers int
	// Control plane (control.go): the fault registry and request log the Faults and Requests
	// endpoints read (nil: those endpoints answer 501).
	Faults   *faults.Registry
	Requests *reqlog.Log
}

// Defaults of the stream caps.
const (
	DefaultMaxStreams           = streamlimit.DefaultMax
	DefaultMaxStreamsPerAccount = streamlimit.DefaultMaxPerAccount
	DefaultStreamWorkers        = 8
)

// Parley serves Parley's own endpoints, outside Twilio's /v1 API and authenticated with the
// same account credentials:
//
//	GET /parley/v1/Outbox                                   what the log carrier "sent"
//	GET /parley/v1/Push                                     the push notifications recorded (push.go)
//	GET /parley/v1/Users/{Identity}/Stream                  live message stream (default service)
//	GET /parley/v1/Services/{ChatServiceSid}/Users/{Identity}/Stream
//	GET /parley/v1/Webhooks/Deliveries                      the webhook delivery log (webhooks.go)
//	GET /parley/v1/Webhooks/Deliveries/{Sid}
//
// The stream is Server-Sent Events (text/event-stream), see stream.
type Parley struct {
	api     *API
	opts    ParleyOptions
	streams *streamSlots    // stream_limits.go
	shared  *sharedMessages // stream_share.go
}

// NewParley returns the handler of Parley's own endpoints, behind api's front door: the same
// service, credentials, URLs and error bodies.
func NewParley(api *API, opts ParleyOptions) *Parley {
	if opts.StreamPoll <= 0 {
		opts.StreamPoll = DefaultStreamPoll
	}
	if opts.StreamHeartbeat <= 0 {
		opts.StreamHeartbeat = DefaultStreamHeartbeat
	}
	if opts.StreamBatch <= 0 {
		opts.StreamBatch = DefaultStreamBatch
	}
	if opts.Streams == nil {
		opts.Streams = streamlimit.New(opts.MaxStreams, opts.MaxStreamsPerAccount)
	}
	if opts.StreamWorkers <= 0 {
		opts.StreamWorkers = DefaultStreamWorkers
	}
	p := &Parley{api: api.withMux(), opts: opts, shared: newSharedMessages(),
		streams: newStreamSlots(opts.Streams, opts.StreamWorkers)}
	p.api.route("GET", "/parley/v1/Outbox", p.listOutbox)
	p.api.route("GET", "/parley/v1/Push", p.listPushes) // push.go
	p.api.route("GET", "/parley/v1/Users/{Identity}/Stream", p.stream)
	p.api.route("GET", "/parley/v1/Services/{ChatServiceSid}/Users/{Identity}/Stream", p.stream)
	p.webhookDeliveryRoutes() // webhooks.go
	p.controlRoutes()         // control.go
	p.tokenRoutes()           // tokens.go
	return p
}

// ServeHTTP authenticates the request (HTTP Basic, as /v1) and dispatches it.
func (p *Parley) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.api.dispatch(w, r) }

// ---- outbox ----

type outboxJSON struct {
	Sid             string  `json:"sid"`
	AccountSid      string  `json:"account_sid"`
	ChatServiceSid  string  `json:"chat_service_sid"`
	ConversationSid string  `json:"conversation_sid"`
	MessageSid      string  `json:"message_sid"`
	Index           int64   `json:"index"`
	DeliverySid     string  `json:"delivery_sid"`
	ParticipantSid  string  `json:"participant_sid"`
	Channel         string  `json:"channel"`
	To              string  `json:"to"`
	From            string  `json:"from"`
	Author          string  `json:"author"`
	Body            *string `json:"body"`
	DateCreated     twDate  `json:"date_created"`
	MessageURL      string  `json:"message_url"`
	// MediaSid and MediaURL (a fresh temporary content URL) are the media item sent, null
	// when none (or when it was deleted since).
	MediaSid *string `json:"media_sid"`
	MediaURL *string `json:"media_url"`
}

func (p *Parley) listOutbox(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	pg, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	f := conv.OutboxFilter{To: q.Get("To"), ConversationSid: q.Get("ConversationSid")}
	var filters [][2]string
	for _, k := range []string{"To", "ConversationSid"} {
		if v := q.Get(k); v != "" {
			filters = append(filters, [2]string{k, v})
		}
	}
	items, err := p.api.svc.ListOutbox(r.Context(), rc.scope.AccountSid, f, pg.query())
	if err != nil {
		return err
	}
	items, meta := pageOf(pg, items, func(e *conv.OutboxEntry) int64 { return e.Seq }, rc.base+"/parley/v1/Outbox", filters, "messages")
	out := make([]outboxJSON, len(items))
	for i, e := range items {
		out[i] = outboxJSON{Sid: e.Sid, AccountSid: e.AccountSid, ChatServiceSid: e.ServiceSid, ConversationSid: e.ConversationSid,
			MessageSid: e.MessageSid, Index: e.MessageIndex, DeliverySid: e.DeliverySid, ParticipantSid: e.ParticipantSid,
			Channel: e.Channel, To: e.To, From: e.From, Author: e.Author, Body: e.Body, DateCreated: twDate(e.DateCreated),
			MessageURL: rc.base + "/v1/Services/" + e.ServiceSid + "/Conversations/" + e.ConversationSid + "/Messages/" + e.MessageSid,
			MediaSid:   nullable(e.MediaSid)}
		if e.MediaSid != "" {
			u, err := p.api.svc.TemporaryMediaURL(r.Context(), rc.base, e.MediaSid)
			if e, ok := conv.AsError(err); ok && e.Code == 4041 {
				continue
			} else if err != nil {
				return err
			}
			out[i].MediaURL = &u
		}
	}
	writeJSON(w, http.StatusOK, listBody("messages", out, meta))
	return nil
}

// ---- live stream ----

// streamEventJSON is the data of one stream event.
type streamEventJSON struct {
	DeliverySid    string      `json:"delivery_sid"`
	ParticipantSid string      `json:"participant_sid"` // the recipient
	Identity       string      `json:"identity"`
	Message        messageJSON `json:"message"`
}

// lastEventID returns the stream position the client asks to resume after: the Last-Event-ID
// header (which EventSource sends on reconnect) or the LastEventId query parameter. ok is false
// when neither is given. Error: 20422 when it is not a non-negative integer.
func lastEventID(r *http.Request) (id int64, ok bool, err error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("LastEventId")
	}
	if v == "" {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if perr != nil || n < 0 {
		return 0, false, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: Last-Event-ID must be a non-negative integer (an id of this stream), not %q", v)
	}
	return n, true, nil
}

// stream serves a live stream of the messages delivered to one chat identity of a service,
// as Server-Sent Events. Each event is one delivery:
//
//	id: <delivery position>
//	event: onMessageAdded
//	data: {"delivery_sid":"DY…","participant_sid":"MB…","identity":"bob","message":{…Message resource…}}
//
// in creation order, which within a conversation is index order. A new stream sends the
// deliveries still pending for the identity (made while no stream was connected), then live
// ones; a stream resumed with Last-Event-ID (or ?LastEventId=) also sends again every delivery
// after that id. A delivery written to a stream is settled as delivered. The comment ": live"
// follows the backlog (what was due when the stream opened); ": keep-alive" comments keep an
// idle stream open.
func (p *Parley) stream(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	ctx := r.Context()
	svc := p.api.svc
	identity := r.PathValue("Identity")
	release, err := p.streams.acquire(rc.scope.AccountSid) // stream_limits.go: refused before anything is read or written
	if err != nil {
		return err
	}
	defer release()
	service, cursor, err := svc.OpenStream(ctx, rc.scope, identity)
	if err != nil {
		return err
	}
	if id, ok, err := lastEventID(r); err != nil {
		return err
	} else if ok {
		cursor = id
	}
	ctl := http.NewResponseController(w)
	_ = ctl.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 2000\n: parley stream of " + oneLine(identity) + " in " + service.Sid + "\n\n")); err != nil {
		return nil
	}
	if err := ctl.Flush(); err != nil {
		p.api.log.ErrorContext(ctx, "stream: response cannot be flushed", slog.Any("err", err))
		return nil
	}
	var wake <-chan struct{}
	if p.opts.Notifier != nil {
		c, cancel := p.opts.Notifier.Subscribe(service.Sid)
		defer cancel()
		wake = c
	}
	poll := time.NewTicker(p.opts.StreamPoll)
	defer poll.Stop()
	beat := time.NewTicker(p.opts.StreamHeartbeat)
	defer beat.Stop()
	backlog := true
	for {
		for {
			// The store work and the encoding run in a short-lived goroutine, at most
			// StreamWorkers at once across all streams (stream_limits.go): a fan-out to
			// thousands of streams neither floods the store, ahead of other requests, nor
			// grows every stream's own stack and buffers, which would stay allocated after
			// the burst. The stream's goroutine only writes the encoded batch.
			var evs []*conv.StreamEvent
			var out []byte
			err := p.streams.offload(ctx, func() error {
				var err error
				if evs, err = svc.StreamEvents(ctx, service.Sid, identity, cursor, p.opts.StreamBatch); err != nil || len(evs) == 0 {
					return err
				}
				for _, e := range evs {
					msg, err := p.shared.message(rc, e.Message) // stream_share.go: encoded once per fan-out
					if err != nil {
						return err
					}
					if out, err = appendStreamEvent(out, e, identity, msg); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				if ctx.Err() == nil {
					p.api.log.ErrorContext(ctx, "stream: read deliveries", slog.Any("err", err))
				}
				return nil
			}
			if len(evs) == 0 {
				break
			}
			if _, err := w.Write(out); err != nil {
				return nil
			}
			out = nil
			for _, e := range evs {
				cursor = max(cursor, e.Delivery.Seq)
			}
			if err := ctl.Flush(); err != nil {
				return nil
			}
			if err := p.streams.offload(ctx, func() error { return svc.MarkStreamed(ctx, evs) }); err != nil {
				if ctx.Err() == nil {
					p.api.log.ErrorContext(ctx, "stream: settle deliveries", slog.Any("err", err))
				}
				return nil
			}
			if len(evs) < p.opts.StreamBatch {
				break
			}
		}
		if backlog {
			// Everything due when the stream opened has been written; live events follow.
			backlog = false
			if _, err := w.Write([]byte(": live\n\n")); err != nil {
				return nil
			}
			if err := ctl.Flush(); err != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case _, open := <-wake:
			if !open {
				return nil // the server is shutting down
			}
		case <-poll.C:
		case <-beat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
			if err := ctl.Flush(); err != nil {
				return nil
			}
		}
	}
}

// oneLine replaces line breaks, which would end an SSE comment early.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
