// Package console is Parley's web console: a small single-page UI (plain HTML, CSS and
// JavaScript embedded in the binary) over the REST API and Parley's own /parley/v1
// endpoints, plus the live event stream it listens to.
//
// The console keeps the credentials the user signs in with in the browser tab's
// sessionStorage and sends them as an Authorization header on every fetch(); it sets no
// cookie, so another site cannot make the browser act on Parley with them.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/streamlimit"
)

//go:embed assets
var assets embed.FS

// Authenticator checks the credentials of a request (conv.Service implements it).
type Authenticator interface {
	Authenticate(ctx context.Context, user, pass string) (*conv.Account, error)
}

// Options configure the console; zero values get the defaults.
type Options struct {
	// Heartbeat is the interval of keep-alive comments on an idle event stream (default 15 s).
	Heartbeat time.Duration
	// Log receives internal errors (default: discarded).
	Log *slog.Logger
	// Streams counts the event streams against the server's stream caps (-max-streams,
	// -max-streams-per-account), the one limiter the SSE message streams use too; past a
	// cap a stream is refused with its 429 (20429) or 503 (20503). Nil: no cap.
	Streams *streamlimit.Limiter
}

// Handler serves the console:
//
//	GET /                       the console page
//	GET /console/{asset}        its script, style sheet and icon
//	GET /parley/v1/Events       the live stream of the account's changes (Server-Sent Events)
type Handler struct {
	auth   Authenticator
	broker *Broker
	opts   Options
	static fs.FS
	mux    *http.ServeMux
}

// New returns the console handler. auth checks the credentials of the event stream and
// broker carries the changes it sends.
func New(auth Authenticator, broker *Broker, opts Options) *Handler {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h := &Handler{auth: auth, broker: broker, opts: opts, static: static, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /console/{asset}", h.asset)
	h.mux.HandleFunc("GET /parley/v1/Events", h.events)
	return h
}

// Mount routes the console's paths on mux: "GET /{$}" (the page), "/console/" (its assets)
// and "/parley/v1/Events" (the stream; more specific than a "/parley/" route, which keeps
// serving the rest of /parley/v1).
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h)
	mux.Handle("/console/", h)
	mux.Handle("/parley/v1/Events", h)
}

// ContentSecurityPolicy is the policy of every console response: only the console's own
// script and style sheet run, nothing may frame it, and it talks only to its own origin.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// ServeHTTP serves the console's routes; anything else is a Twilio-style 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if _, pattern := h.mux.Handler(r); pattern == "" {
		if r.URL.Path == "/parley/v1/Events" {
			w.Header().Set("Allow", "GET")
			writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
			return
		}
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// contentType returns the media type of an asset, or "" for a name that is not one.
func contentType(name string) string {
	switch name {
	case "app.js":
		return "text/javascript; charset=utf-8"
	case "app.css":
		return "text/css; charset=utf-8"
	case "icon.svg":
		return "image/svg+xml"
	}
	return ""
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(h.static, "index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("asset")
	ct := contentType(name)
	if ct == "" {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	b, err := fs.ReadFile(h.static, name)
	if err != nil {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// events streams the changes of the authenticated account as Server-Sent Events:
//
//	event: ready               once, when the stream is subscribed (data {"account_sid":…})
//	event: change              one per committed change, data a Change
//
// with ": keep-alive" comments on an idle stream. The stream holds one of the server's stream
// slots (Options.Streams) while open; past a cap it is refused (429/20429 for the account's,
// 503/20503 for the server's) before anything is subscribed. A subscriber that falls behind is
// disconnected (the stream ends after an "event: dropped"); the console then reconnects and
// reloads what it shows. Browsers' EventSource cannot send an Authorization header, so the
// console reads the stream with fetch().
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		unauthorized(w, "Authentication Error - No credentials provided")
		return
	}
	acct, err := h.auth.Authenticate(r.Context(), user, pass)
	if err != nil {
		var e *conv.Error
		if errors.As(err, &e) && e.Kind == conv.KindUnauthorized {
			unauthorized(w, e.Message)
			return
		}
		h.opts.Log.ErrorContext(r.Context(), "console events: authenticate", slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	if h.opts.Streams != nil {
		release, err := h.opts.Streams.Acquire(acct.Sid)
		if err != nil {
			var rf *streamlimit.Refusal
			if errors.As(err, &rf) {
				writeError(w, rf.Status, rf.Code, rf.Message)
				return
			}
			h.opts.Log.ErrorContext(r.Context(), "console events: stream slot", slog.Any("err", err))
			writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
			return
		}
		defer release()
	}
	sub := h.broker.Subscribe(acct.Sid)
	defer sub.Close()
	ctx := r.Context()
	ctl := http.NewResponseController(w)
	_ = ctl.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ready, _ := json.Marshal(map[string]string{"account_sid": acct.Sid})
	if _, err := w.Write(append(append([]byte("retry: 2000\nevent: ready\ndata: "), ready...), "\n\n"...)); err != nil {
		return
	}
	if err := ctl.Flush(); err != nil {
		return
	}
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	var seq int64
	for {
		select {
		case <-ctx.Done():
			return
		case c, open := <-sub.C:
			if !open {
				if sub.Dropped() {
					_, _ = w.Write([]byte("event: dropped\ndata: {}\n\n"))
					_ = ctl.Flush()
				}
				return
			}
			data, err := json.Marshal(c)
			if err != nil {
				return
			}
			seq++
			buf := make([]byte, 0, len(data)+48)
			buf = append(buf, "id: "...)
			buf = strconv.AppendInt(buf, seq, 10)
			buf = append(buf, "\nevent: change\ndata: "...)
			buf = append(buf, data...)
			buf = append(buf, "\n\n"...)
			if _, err := w.Write(buf); err != nil {
				return
			}
			if err := ctl.Flush(); err != nil {
				return
			}
		case <-beat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			if err := ctl.Flush(); err != nil {
				return
			}
		}
	}
}

// errorBody is Twilio's error document.
type errorBody struct {
	Code     int    `json:"code"`
	Detail   string `json:"detail,omitempty"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	writeErrorBody(w, errorBody{Code: 20003, Message: msg, Status: http.StatusUnauthorized, Detail: "Your AccountSid or AuthToken was incorrect."})
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeErrorBody(w, errorBody{Code: code, Message: msg, Status: status})
}

func writeErrorBody(w http.ResponseWriter, b errorBody) {
	b.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(b.Code)
	data, _ := json.Marshal(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(b.Status)
	_, _ = w.Write(data)
}
