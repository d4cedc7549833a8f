// Package reqlog keeps the last API requests of each account (GET /parley/v1/Requests): a
// ring buffer in the memory of one process (each replica keeps its own, and a restart
// empties it), with secrets masked.
package reqlog

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultCapacity is how many requests a Log keeps per account.
const DefaultCapacity = 10000

// Entry is one logged request.
type Entry struct {
	Seq        int64
	Sid        string // RQ…
	AccountSid string
	Time       time.Time
	Method     string
	Path       string
	// Params are the query and form parameters, with secrets masked.
	Params     map[string][]string
	Status     int
	ErrorCode  int // the Twilio code of an error answer, 0 otherwise
	DurationMs float64
}

// Log is the request log of every account.
type Log struct {
	mu       sync.Mutex
	capacity int
	seq      int64
	rings    map[string]*ring
	now      func() time.Time
	newSid   func() string
}

type ring struct {
	items []Entry
	next  int
	full  bool
}

// New returns a Log that keeps capacity requests per account (DefaultCapacity when <= 0);
// now stamps them (the control plane's clock) and newSid names them (RQ…).
func New(capacity int, now func() time.Time, newSid func() string) *Log {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Log{capacity: capacity, rings: map[string]*ring{}, now: now, newSid: newSid}
}

// Filter narrows List; zero fields match everything.
type Filter struct {
	Method     string
	Status     int
	PathPrefix string
}

// List returns the account's logged requests, newest first, that f selects.
func (l *Log) List(accountSid string, f Filter) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rings[accountSid]
	if r == nil {
		return nil
	}
	n := r.next
	if r.full {
		n = len(r.items)
	}
	out := make([]Entry, 0, n)
	for i := 0; i < n; i++ {
		idx := (r.next - 1 - i + len(r.items)) % len(r.items)
		e := r.items[idx]
		if f.Method != "" && !strings.EqualFold(f.Method, e.Method) || f.Status != 0 && f.Status != e.Status ||
			f.PathPrefix != "" && !strings.HasPrefix(e.Path, f.PathPrefix) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (l *Log) add(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rings[e.AccountSid]
	if r == nil {
		r = &ring{items: make([]Entry, l.capacity)}
		l.rings[e.AccountSid] = r
	}
	l.seq++
	e.Seq = l.seq
	r.items[r.next] = e
	r.next++
	if r.next == len(r.items) {
		r.next, r.full = 0, true
	}
}

// Authenticator names the account of a request's credentials.
type Authenticator func(r *http.Request) (accountSid string, ok bool)

// maxParamsBody is the largest form body whose parameters are logged.
const maxParamsBody = 64 << 10

// Middleware logs every authenticated request to /v1 and /parley/ that next serves.
func (l *Log) Middleware(next http.Handler, auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.HasPrefix(p, "/v1/") && !strings.HasPrefix(p, "/parley/") {
			next.ServeHTTP(w, r)
			return
		}
		acct, ok := auth(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		params := url.Values{}
		for k, v := range r.URL.Query() {
			params[k] = v
		}
		if ct := r.Header.Get("Content-Type"); r.Body != nil && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			head, _ := io.ReadAll(io.LimitReader(r.Body, maxParamsBody+1))
			if len(head) <= maxParamsBody {
				if form, err := url.ParseQuery(string(head)); err == nil {
					for k, v := range form {
						params[k] = append(params[k], v...)
					}
				}
			}
			r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		}
		start := time.Now()
		at := l.now().UTC()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		e := Entry{Sid: l.newSid(), AccountSid: acct, Time: at, Method: r.Method, Path: p, Params: Mask(params),
			Status: rec.status, DurationMs: float64(time.Since(start).Microseconds()) / 1000}
		if rec.status >= 400 && rec.body.Len() > 0 {
			var b struct {
				Code int `json:"code"`
			}
			if json.Unmarshal(rec.body.Bytes(), &b) == nil {
				e.ErrorCode = b.Code
			}
		}
		l.add(e)
	})
}

// Masked is the value a secret parameter is logged as.
const Masked = "********"

// secretWords mark a parameter whose value is a secret, compared case-insensitively.
var secretWords = []string{"token", "secret", "password", "authorization", "apikey", "privatekey", "certificate"}

// IsSecret reports whether a parameter named name holds a secret (its name contains Token,
// Secret, Password, Authorization, ApiKey, PrivateKey or Certificate).
func IsSecret(name string) bool {
	n := strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(name))
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Mask returns params with the values of secret parameters replaced by Masked.
func Mask(params url.Values) map[string][]string {
	out := make(map[string][]string, len(params))
	for k, v := range params {
		if IsSecret(k) {
			m := make([]string, len(v))
			for i := range m {
				m[i] = Masked
			}
			out[k] = m
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

type readCloser struct {
	io.Reader
	io.Closer
}

// recorder keeps the status and the start of an error body.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	if r.status >= 400 && r.body.Len() < 4096 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes of streams).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
