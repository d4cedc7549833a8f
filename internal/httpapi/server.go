// Package httpapi is Parley's Twilio wire layer: the one route table of Conversations v1,
// form decoding, the snake_case JSON shapes, paging metadata and the one writeError.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/metrics/route"
)

// Options configure the API handler.
type Options struct {
	// PublicURL, when set (e.g. "https://parley.example.com"), is the scheme and host of every
	// url the API returns. Otherwise they come from the request: its Host header, and https
	// when the connection is TLS (or X-Forwarded-Proto says so and TrustProxy is set).
	PublicURL string
	// TrustProxy honours X-Forwarded-Proto and X-Forwarded-Host.
	TrustProxy bool
	// MaxBodyBytes limits the request bodies of every route behind the front door (default
	// 1 MiB).
	MaxBodyBytes int64
	// Tokens verifies the access tokens (X-Twilio-Token) of client SDK media requests; nil
	// refuses them (403, 20101).
	Tokens TokenVerifier
}

// API serves Conversations v1 over a conv.Service. It is also the server's one front door
// (FrontDoor): the credentials, body limit and error bodies of every route, Parley's own
// endpoints (NewParley) included.
type API struct {
	svc  *conv.Service
	log  *slog.Logger
	opts Options
	mux  *http.ServeMux
	// allowed lists, per path pattern, the methods routed on it (for 405 answers).
	allowed map[string][]string
	// mediaMux routes the Media Content Service (media.go).
	mediaMux *http.ServeMux
	// lastFull is when (unix ns) a write last failed on full storage (errors.go); shared by
	// the views withMux makes.
	lastFull *atomic.Int64
	// pageBufs holds participant list body buffers (*[]byte) for reuse; shared by the views
	// withMux makes.
	pageBufs *sync.Pool
}

// handlerFunc is a route handler; a returned error is written by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error

// reqCtx carries what every handler needs: the authenticated account, the scope and the base
// URL the response's links are built on.
type reqCtx struct {
	account     *conv.Account
	scope       conv.Scope
	serviceForm bool   // the /v1/Services/{IS}/... URL form
	base        string // scheme://host
	pageMax     int    // the largest PageSize of the route's list (listPageSizeMax)
}

// servicePrefix is the URL prefix of resources in service serviceSid: "/v1/Services/IS…" on
// the service form, "/v1" on the shortened form.
func (rc *reqCtx) servicePrefix(serviceSid string) string {
	if rc.serviceForm {
		return rc.base + "/v1/Services/" + serviceSid
	}
	return rc.base + "/v1"
}

func (rc *reqCtx) conversationURL(serviceSid, sid string) string {
	return rc.servicePrefix(serviceSid) + "/Conversations/" + sid
}

// withMux returns a view of a on a mux of its own: the same service, logger and options
// (credentials, URLs, error bodies), other routes.
func (a *API) withMux() *API {
	return &API{svc: a.svc, log: a.log, opts: a.opts, mux: http.NewServeMux(), allowed: map[string][]string{}, lastFull: a.lastFull,
		mediaMux: a.mediaMux, pageBufs: a.pageBufs}
}

// New returns the API: the handler of the /v1 routes and the front door (FrontDoor).
func New(svc *conv.Service, log *slog.Logger, opts Options) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	a := &API{svc: svc, log: log, opts: opts, mux: http.NewServeMux(), allowed: map[string][]string{}, lastFull: new(atomic.Int64),
		pageBufs: &sync.Pool{}}
	a.routes()
	a.mediaMux = a.mediaRoutes() // media.go
	return a
}

// route registers one operation. Each path template is registered on both URL forms when
// both is set: "/v1<tmpl>" and "/v1/Services/{ChatServiceSid}<tmpl>".
func (a *API) route(method, pattern string, h handlerFunc) {
	a.allowed[pattern] = append(a.allowed[pattern], method)
	pageMax := listPageSizeMax(pattern)
	a.mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
		route.Set(r.Context(), method+" "+pattern) // control plane: the metrics' route label
		a.serve(w, r, h, pageMax)
	})
}

// both registers a route on the shortened URL and on the /v1/Services/{ChatServiceSid} form.
func (a *API) both(method, tmpl string, h handlerFunc) {
	a.route(method, "/v1"+tmpl, h)
	a.route(method, "/v1/Services/{ChatServiceSid}"+tmpl, h)
}

// routes is the route table of Conversations v1.
func (a *API) routes() {
	a.route("POST", "/v1/Services", a.createService)
	a.route("GET", "/v1/Services", a.listServices)
	a.route("GET", "/v1/Services/{Sid}", a.fetchService)
	a.route("DELETE", "/v1/Services/{Sid}", a.deleteService)
	a.route("GET", "/v1/Services/{ChatServiceSid}/Configuration", a.fetchServiceConfig)

	a.both("POST", "/Conversations", a.createConversation)
	a.both("GET", "/Conversations", a.listConversations)
	a.both("GET", "/Conversations/{Sid}", a.fetchConversation)
	a.both("POST", "/Conversations/{Sid}", a.updateConversation)
	a.both("DELETE", "/Conversations/{Sid}", a.deleteConversation)

	a.both("POST", "/Conversations/{ConversationSid}/Participants", a.createParticipant)
	a.both("GET", "/Conversations/{ConversationSid}/Participants", a.listParticipants)
	a.both("GET", "/Conversations/{ConversationSid}/Participants/{Sid}", a.fetchParticipant)
	a.both("POST", "/Conversations/{ConversationSid}/Participants/{Sid}", a.updateParticipant)
	a.both("DELETE", "/Conversations/{ConversationSid}/Participants/{Sid}", a.deleteParticipant)

	a.both("GET", "/Roles", a.listRoles)
	a.both("GET", "/Roles/{Sid}", a.fetchRole)
	a.both("POST", "/Roles", a.createRole)
	a.both("POST", "/Roles/{Sid}", a.updateRole)
	a.both("DELETE", "/Roles/{Sid}", a.deleteRole)

	a.route("GET", "/v1/Configuration", a.fetchConfiguration)
	a.route("POST", "/v1/Configuration", a.updateConfiguration)
	a.route("POST", "/v1/Services/{ChatServiceSid}/Configuration", a.updateServiceConfig)
	a.route("GET", "/v1/Services/{ChatServiceSid}/Configuration/Notifications", a.fetchServiceNotifications)
	a.route("POST", "/v1/Services/{ChatServiceSid}/Configuration/Notifications", a.updateServiceNotifications)
	a.route("GET", "/v1/Configuration/Addresses", a.listAddressConfigs)
	a.route("POST", "/v1/Configuration/Addresses", a.createAddressConfig)
	a.route("GET", "/v1/Configuration/Addresses/{Sid}", a.fetchAddressConfig)
	a.route("POST", "/v1/Configuration/Addresses/{Sid}", a.updateAddressConfig)
	a.route("DELETE", "/v1/Configuration/Addresses/{Sid}", a.deleteAddressConfig)
	a.route("GET", "/v1/Credentials", a.listCredentials)
	a.route("POST", "/v1/Credentials", a.createCredential)
	a.route("GET", "/v1/Credentials/{Sid}", a.fetchCredential)
	a.route("POST", "/v1/Credentials/{Sid}", a.updateCredential)
	a.route("DELETE", "/v1/Credentials/{Sid}", a.deleteCredential)
	a.route("GET", "/v1/Services/{ChatServiceSid}/Bindings", a.listPushBindings)
	a.route("GET", "/v1/Services/{ChatServiceSid}/Bindings/{Sid}", a.fetchPushBinding)
	a.route("DELETE", "/v1/Services/{ChatServiceSid}/Bindings/{Sid}", a.deletePushBinding)
	a.both("POST", "/ConversationWithParticipants", a.createConversationWithParticipants)

	a.messageRoutes() // messages.go
	a.webhookRoutes() // webhooks.go
	a.userRoutes()    // users.go
}

// Mount is one handler behind the front door and the paths it serves.
type Mount struct {
	// Path is an exact path ("/healthz") or, ending in "/", a subtree ("/v1/", which also
	// serves "/v1" itself). The root "/" is exact: it serves "/" only, so that every other
	// unknown path keeps Twilio's 404.
	Path    string
	Handler http.Handler
}

// matches reports whether the mount serves path p.
func (m Mount) matches(p string) bool {
	if m.Path != "/" && strings.HasSuffix(m.Path, "/") {
		return strings.HasPrefix(p, m.Path) || p == strings.TrimSuffix(m.Path, "/")
	}
	return p == m.Path
}

// FrontDoor returns the server's one handler. Every request passes the same front door: a
// panic becomes Twilio's 500 (20500) and is logged, the body is limited to MaxBodyBytes (a
// larger form is a 413, 20413), and the first mount whose Path matches serves it. A path no
// mount serves is Twilio's 404 (20404) in JSON, whatever the path. With the logger at debug
// level, every request is logged with its status and duration. Each of inner, the first
// outermost, wraps the matching of the mounts inside the front door (the control plane's
// metrics, request log and faults), so it sees every request, a 404 included.
func (a *API) FrontDoor(mounts []Mount, inner ...func(http.Handler) http.Handler) http.Handler {
	mounts = append([]Mount(nil), mounts...)
	var router http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range mounts {
			if m.matches(r.URL.Path) {
				m.Handler.ServeHTTP(w, r)
				return
			}
		}
		a.writeError(w, r, conv.NotFound())
	})
	for i := len(inner) - 1; i >= 0; i-- {
		router = inner[i](router)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.log.Enabled(r.Context(), slog.LevelDebug) {
			sw := &StatusWriter{ResponseWriter: w}
			w = sw
			defer func(start time.Time) {
				a.log.DebugContext(r.Context(), "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", sw.StatusCode()), slog.Duration("duration", time.Since(start)))
			}(time.Now())
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("path", r.URL.Path))
				a.writeError(w, r, conv.Errorf(conv.KindInternal, 20500, "Internal Server Error"))
			}
		}()
		if r.Body != nil {
			limit := a.opts.MaxBodyBytes
			if l := a.mediaBodyLimit(r); l > 0 { // media uploads: the media size limit
				limit = l
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		router.ServeHTTP(w, r)
	})
}

// StatusWriter records the status of a response (for the request log, and for middlewares
// that act on a handler's outcome).
type StatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines of streams).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// StatusCode is the status written, 200 when the handler wrote a body without one.
func (w *StatusWriter) StatusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// ServeHTTP serves the /v1 routes (the front door mounts it on /v1/).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.dispatch(w, r) }

// dispatch authenticates a request with an account's credentials (HTTP Basic) and routes it
// on a's mux: 404 (20404) for a path no route serves, 405 (20004) for a method it does not.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	if IsMediaPath(r.URL.Path) { // the Media Content Service authenticates on its own (media.go)
		a.serveMedia(w, r)
		return
	}
	// Every route needs credentials, even unknown ones (as at Twilio).
	acct, err := a.authenticate(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), accountKey{}, acct))
	if err := checkRequestText(r); err != nil { // door.go
		a.writeError(w, r, err)
		return
	}
	if p := r.URL.Path; p != path.Clean(p) || strings.HasSuffix(p, "/") {
		a.writeError(w, r, conv.NotFound())
		return
	}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.methodOrNotFound(w, r)
		return
	}
	a.mux.ServeHTTP(w, r) // sets the path values the handlers read
}

// methodOrNotFound answers a request no route matched: 405 (20004) when the path exists with
// other methods, else 404 (20404).
func (a *API) methodOrNotFound(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{"GET", "POST", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" {
			methods := a.allowed[strings.TrimPrefix(pattern, m+" ")]
			sort.Strings(methods)
			w.Header().Set("Allow", strings.Join(methods, ", "))
			a.writeError(w, r, conv.Errorf(conv.KindMethodNotAllowed, 20004, "Method not allowed: %s is not supported on %s", r.Method, resourcePath(r)))
			return
		}
	}
	a.writeError(w, r, conv.NotFound())
}

type accountKey struct{}

func (a *API) authenticate(r *http.Request) (*conv.Account, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, &conv.Error{Kind: conv.KindUnauthorized, Code: 20003, Message: "Authentication Error - No credentials provided"}
	}
	return a.svc.Authenticate(r.Context(), user, pass)
}

// serve builds the request context and runs a handler.
func (a *API) serve(w http.ResponseWriter, r *http.Request, h handlerFunc, pageMax int) {
	acct, _ := r.Context().Value(accountKey{}).(*conv.Account)
	rc := &reqCtx{account: acct, base: a.baseURL(r), pageMax: pageMax}
	rc.scope.AccountSid = acct.Sid
	if is := r.PathValue("ChatServiceSid"); is != "" {
		rc.scope.ServiceSid, rc.serviceForm = is, true
	}
	if err := h(w, r, rc); err != nil {
		a.writeError(w, r, err)
	}
}

// baseURL is the scheme and host the response's URLs are built on.
func (a *API) baseURL(r *http.Request) string { return BaseURL(r, a.opts.PublicURL, a.opts.TrustProxy) }

// BaseURL is the scheme://host of r as clients reach it: publicURL when set, else the request's
// scheme and Host, or the X-Forwarded-Proto/-Host headers when trustProxy.
func BaseURL(r *http.Request, publicURL string, trustProxy bool) string {
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/")
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if trustProxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	return scheme + "://" + host
}

// writeOpts reads the per-request write flags (X-Twilio-Webhook-Enabled).
func writeOpts(r *http.Request) (conv.WriteOptions, error) {
	on, err := webhookEnabled(r)
	return conv.WriteOptions{WebhookEnabled: on}, err
}
