package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/twilsock"
)

// Principal is who a socket is authenticated as: the verified token's claims that scope every
// upstream request.
type Principal struct {
	AccountSid string
	KeySid     string
	ServiceSid string
	Identity   string
	EndpointID string
	ExpiresAt  time.Time
}

// Request is an upstream ("message") request tunnelled over the socket.
type Request struct {
	Principal   Principal
	Session     *Session // the socket the request came on (nil in tests that call an Upstream directly)
	Grant       string   // active_grant, "ip_messaging" for Conversations and Sync
	Method      string   // HTTP method, upper case
	Host        string   // label as sent, e.g. "aim.us1.twilio.com"
	Service     string   // first label of Host: "aim", "cds", "ers", …
	Path        string
	PathParams  map[string]string // {name} segments of the matched pattern
	Params      map[string]twilsock.MultiValue
	Headers     map[string]twilsock.MultiValue
	ContentType string // the frame's payload_type
	Body        []byte
}

// Response is an upstream response; Body is JSON (sent with payload_type application/json).
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// Upstream answers upstream requests.
type Upstream interface {
	ServeUpstream(ctx context.Context, r *Request) *Response
}

// UpstreamFunc adapts a function to Upstream.
type UpstreamFunc func(ctx context.Context, r *Request) *Response

// ServeUpstream calls f.
func (f UpstreamFunc) ServeUpstream(ctx context.Context, r *Request) *Response { return f(ctx, r) }

// ErrorResponse returns a Twilio-style JSON error response: {"code","message","more_info","status"}.
func ErrorResponse(status, code int, message string) *Response {
	b, _ := json.Marshal(struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   int    `json:"status"`
	}{code, message, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), status})
	return &Response{Status: status, Body: b}
}

// JSONResponse marshals v as the body of a response with status.
func JSONResponse(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
	}
	return &Response{Status: status, Body: b}
}

// Router routes upstream requests on (method, service, path pattern). The service is the
// first label of the host ("aim" matches aim.us1.twilio.com and aim.ie1.twilio.com), because
// the SDK's region option changes only the rest. A pattern is a path whose segments are
// literals or {name} captures, e.g. "/v3/Maps/{id}". Unknown services and paths get 404 with
// Twilio error 20404; a known path with another method gets 405 (20004).
type Router struct {
	routes []route
}

type route struct {
	method, service string
	segs            []string
	h               Upstream
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{} }

// Handle registers h. It panics on a malformed pattern (a programming error).
func (rt *Router) Handle(method, service, pattern string, h Upstream) {
	if !strings.HasPrefix(pattern, "/") || method == "" || service == "" {
		panic(fmt.Sprintf("gateway: bad route %s %s %s", method, service, pattern))
	}
	rt.routes = append(rt.routes, route{method: strings.ToUpper(method), service: service, segs: strings.Split(pattern[1:], "/"), h: h})
}

// ServiceOf returns the first DNS label of host, without any port.
func ServiceOf(host string) string {
	if i := strings.IndexAny(host, ".:"); i >= 0 {
		return host[:i]
	}
	return host
}

// ServeUpstream implements Upstream.
func (rt *Router) ServeUpstream(ctx context.Context, r *Request) *Response {
	segs := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	pathMatched := false
	for _, ro := range rt.routes {
		if ro.service != r.Service {
			continue
		}
		params, ok := match(ro.segs, segs)
		if !ok {
			continue
		}
		pathMatched = true
		if ro.method != r.Method {
			continue
		}
		r.PathParams = params
		return ro.h.ServeUpstream(ctx, r)
	}
	if pathMatched {
		return ErrorResponse(http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
	return ErrorResponse(http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.Path))
}

func match(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}' {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}
