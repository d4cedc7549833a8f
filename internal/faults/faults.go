// Package faults injects failures for tests (POST /parley/v1/Faults): API requests that get
// a chosen Twilio error or a delay, and outgoing webhook and carrier deliveries that fail as
// if the app answered a status or timed out. Faults live in the memory of one process (they
// are not shared between replicas) and belong to the account that made them.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Targets of a fault.
const (
	TargetAPI     = "api"     // requests to the REST API
	TargetWebhook = "webhook" // outgoing webhook deliveries
	TargetCarrier = "carrier" // SMS/WhatsApp deliveries to the carrier
)

// Fault is one injected failure.
type Fault struct {
	Sid        string
	AccountSid string
	Target     string
	// API faults: Method ("" any) and Path, a pattern of the request path where "*" stands
	// for one segment (e.g. /v1/Conversations/*/Participants).
	Method string
	Path   string
	// Outgoing faults: URL, a prefix of the delivery URL.
	URL string
	// Status and Code (API) or Status (outgoing) answer the request; Message is the error
	// message (API). Delay (API) holds the request before it runs. Timeout (outgoing) makes
	// the delivery time out.
	Status      int
	Code        int
	Message     string
	Delay       time.Duration
	Timeout     bool
	Count       int
	Remaining   int
	DateCreated time.Time
}

// Registry holds the faults of every account.
type Registry struct {
	mu     sync.Mutex
	faults []*Fault
	now    func() time.Time
	newSid func() string
	usedUp func(accountSid string)
}

// New returns an empty Registry; now dates new faults and newSid names them (FI…). usedUp,
// when set, hears of a fault whose count a firing used up (it left the registry), with the
// fault's account, so that a live view of the faults refreshes; it is called outside the
// registry's lock.
func New(now func() time.Time, newSid func() string, usedUp func(accountSid string)) *Registry {
	return &Registry{now: now, newSid: newSid, usedUp: usedUp}
}

// ErrInvalid is wrapped by Add's errors about its parameters.
var ErrInvalid = errors.New("invalid fault")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Add checks f, sets its Sid, Remaining and DateCreated, and registers it.
func (r *Registry) Add(f Fault) (*Fault, error) {
	if f.Target == "" {
		f.Target = TargetAPI
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Count < 0 || f.Count > 1000000 {
		return nil, invalid("Count must be between 1 and 1000000")
	}
	switch f.Target {
	case TargetAPI:
		if f.URL != "" || f.Timeout {
			return nil, invalid("Url and Timeout are for Target webhook or carrier")
		}
		if f.Path == "" || !strings.HasPrefix(f.Path, "/") {
			return nil, invalid("Path must be a request path pattern such as /v1/Conversations/*/Participants")
		}
		f.Method = strings.ToUpper(f.Method)
		switch f.Method {
		case "", "GET", "POST", "DELETE":
		default:
			return nil, invalid("Method must be GET, POST or DELETE")
		}
		hasStatus := f.Status != 0 || f.Code != 0
		switch {
		case hasStatus && f.Delay != 0:
			return nil, invalid("give either Status and Code, or Delay")
		case hasStatus:
			if f.Status < 400 || f.Status > 599 {
				return nil, invalid("Status must be an HTTP error status (400 to 599)")
			}
			if f.Code <= 0 {
				return nil, invalid("Code (a Twilio error code) is required with Status")
			}
			if f.Message == "" {
				f.Message = "Fault injected by Parley"
			}
		case f.Delay > 0:
			if f.Delay > 5*time.Minute {
				return nil, invalid("Delay must be at most 5m")
			}
		default:
			return nil, invalid("give either Status and Code, or Delay")
		}
	case TargetWebhook, TargetCarrier:
		if f.Path != "" || f.Code != 0 || f.Delay != 0 || f.Method != "" {
			return nil, invalid("Target %s takes Url and Status or Timeout (not Path, Method, Code or Delay)", f.Target)
		}
		if u, err := url.Parse(f.URL); (f.URL != "" || f.Target == TargetWebhook) && (err != nil || u.Scheme == "") {
			return nil, invalid("Url must be an absolute URL (a prefix of the delivery URL)")
		}
		switch {
		case f.Timeout && f.Status != 0:
			return nil, invalid("give either Status or Timeout=true")
		case f.Timeout:
		case f.Status < 100 || f.Status > 599:
			return nil, invalid("Status must be an HTTP status (100 to 599), or give Timeout=true")
		}
	default:
		return nil, invalid("Target must be api, webhook or carrier")
	}
	f.Sid = r.newSid()
	f.Remaining = f.Count
	f.DateCreated = r.now().UTC().Truncate(time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, &f)
	cp := f
	return &cp, nil
}

// List returns copies of the account's faults, newest first.
func (r *Registry) List(accountSid string) []Fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Fault
	for i := len(r.faults) - 1; i >= 0; i-- {
		if f := r.faults[i]; f.AccountSid == accountSid {
			out = append(out, *f)
		}
	}
	return out
}

// Delete removes one of the account's faults and reports whether it existed.
func (r *Registry) Delete(accountSid, sid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, f := range r.faults {
		if f.Sid == sid && f.AccountSid == accountSid {
			r.faults = append(r.faults[:i], r.faults[i+1:]...)
			return true
		}
	}
	return false
}

// take finds the oldest live fault match accepts, uses one of its count (removing it at
// zero, and telling usedUp) and returns a copy.
func (r *Registry) take(match func(*Fault) bool) (Fault, bool) {
	f, ok, gone := r.takeLocked(match)
	if gone && r.usedUp != nil {
		r.usedUp(f.AccountSid)
	}
	return f, ok
}

func (r *Registry) takeLocked(match func(*Fault) bool) (f Fault, ok, gone bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.faults {
		if !match(x) {
			continue
		}
		x.Remaining--
		if x.Remaining <= 0 {
			r.faults = append(r.faults[:i], r.faults[i+1:]...)
			gone = true
		}
		return *x, true, gone
	}
	return Fault{}, false, false
}

// PathMatches reports whether the request path matches pattern, segment by segment, "*"
// matching any one segment.
func PathMatches(pattern, path string) bool {
	ps, xs := strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// Authenticator names the account of a request's credentials ("", false when they are
// missing or wrong; the API then answers 401 itself).
type Authenticator func(r *http.Request) (accountSid string, ok bool)

// Middleware applies the API faults to the /v1 requests of next: a matching request of the
// fault's account gets Twilio's error body with the fault's status and code without running
// (so it changes nothing), or is held for the fault's delay and then runs.
func (r *Registry) Middleware(next http.Handler, auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/v1/") || !r.any() {
			next.ServeHTTP(w, req)
			return
		}
		acct, ok := auth(req)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		f, ok := r.take(func(f *Fault) bool {
			return f.Target == TargetAPI && f.AccountSid == acct && (f.Method == "" || f.Method == req.Method) && PathMatches(f.Path, req.URL.Path)
		})
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-req.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
			next.ServeHTTP(w, req)
			return
		}
		body, _ := json.Marshal(map[string]any{"code": f.Code, "message": f.Message,
			"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(f.Code), "status": f.Status})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write(body)
	})
}

func (r *Registry) any() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.faults) > 0
}

// ErrTimeout is the error of a delivery a Timeout fault failed.
var ErrTimeout = errors.New("parley fault: the app did not answer in time (injected timeout)")

// Transport wraps the HTTP transport of outgoing webhooks (target TargetWebhook): a request whose URL starts with a fault's Url, from the fault's account,
// fails as the fault says without being sent. The account is the AccountSid form field of the
// request body (which webhook requests carry); a request without one matches any account's
// faults.
func (r *Registry) Transport(target string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if !r.any() {
			return next.RoundTrip(req)
		}
		acct := ""
		if req.Body != nil && req.GetBody != nil {
			if b, err := req.GetBody(); err == nil {
				raw, _ := io.ReadAll(io.LimitReader(b, 1<<20))
				b.Close()
				acct = accountOf(req.Header.Get("Content-Type"), raw)
			}
		}
		u := req.URL.String()
		f, ok := r.take(func(f *Fault) bool {
			return f.Target == target && strings.HasPrefix(u, f.URL) && (acct == "" || f.AccountSid == acct)
		})
		if !ok {
			return next.RoundTrip(req)
		}
		if req.Body != nil {
			req.Body.Close()
		}
		if f.Timeout {
			return nil, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
		}
		body := "Fault injected by Parley"
		return &http.Response{StatusCode: f.Status, Status: strconv.Itoa(f.Status) + " " + http.StatusText(f.Status),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)), Request: req}, nil
	})
}

// accountOf returns the AccountSid of a form or JSON request body ("" when none).
func accountOf(contentType string, body []byte) string {
	if strings.HasPrefix(contentType, "application/json") {
		var v struct {
			AccountSid  string `json:"AccountSid"`
			AccountSid2 string `json:"account_sid"`
		}
		if json.Unmarshal(body, &v) == nil {
			if v.AccountSid != "" {
				return v.AccountSid
			}
			return v.AccountSid2
		}
		return ""
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return q.Get("AccountSid")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
