package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/faults"
	"github.com/parley-dev/parley/internal/reqlog"
	"github.com/parley-dev/parley/internal/snapshot"
)

// The control plane (docs/control-plane.md): Parley's endpoints that drive an emulated world
// for tests and the developer console. Every one acts on the caller's account only.
//
//	POST   /parley/v1/Reset             remove the account's state (204)
//	GET    /parley/v1/Snapshot          the account's state as a versioned document
//	POST   /parley/v1/Snapshot          replace the account's state with a document (204)
//	GET    /parley/v1/Clock             the emulated time and its offset
//	POST   /parley/v1/Clock             Advance=PT2H or Now=<RFC 3339> (never backwards)
//	POST   /parley/v1/Faults            inject a failure (201)
//	GET    /parley/v1/Faults            the account's faults (paged, key "faults")
//	DELETE /parley/v1/Faults/{Sid}      remove one (204)
//	POST   /parley/v1/Inbound           simulate an SMS/WhatsApp message from a phone (201)
//	GET    /parley/v1/Requests          the account's last API requests (paged, key "requests")
//
// Bad parameters get 400 with code 20422 (Invalid Parameter), unknown ones 20001 (Unknown
// parameters); nothing changes then.

// MaxSnapshotBytes is the largest snapshot document POST /parley/v1/Snapshot reads.
const MaxSnapshotBytes = 64 << 20

func (p *Parley) controlRoutes() {
	a := p.api
	a.route("POST", "/parley/v1/Reset", p.reset)
	a.route("GET", "/parley/v1/Snapshot", p.getSnapshot)
	a.route("POST", "/parley/v1/Snapshot", p.postSnapshot)
	a.route("GET", "/parley/v1/Clock", p.getClock)
	a.route("POST", "/parley/v1/Clock", p.postClock)
	a.route("POST", "/parley/v1/Faults", p.createFault)
	a.route("GET", "/parley/v1/Faults", p.listFaults)
	a.route("DELETE", "/parley/v1/Faults/{Sid}", p.deleteFault)
	a.route("POST", "/parley/v1/Inbound", p.inbound)
	a.route("GET", "/parley/v1/Requests", p.listRequests)
}

func badParam(format string, args ...any) error {
	return conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: "+format, args...)
}

// maxControlForm bounds the form body of a control endpoint.
const maxControlForm = 1 << 20

// controlForm reads a form body (at most 1 MiB: 413, 20413) and refuses parameters outside
// allowed (20001).
func controlForm(w http.ResponseWriter, r *http.Request, allowed ...string) (form, error) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxControlForm)
	}
	f, err := readForm(r)
	if err != nil {
		return nil, err
	}
	for k := range f {
		if !slices.Contains(allowed, k) {
			return nil, conv.Errorf(conv.KindInvalid, 20001, "Unknown parameter %s (this endpoint takes %s)", k, strings.Join(allowed, ", "))
		}
	}
	return f, nil
}

// controlQuery refuses query parameters outside allowed (20001).
func controlQuery(r *http.Request, allowed ...string) error {
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			return conv.Errorf(conv.KindInvalid, 20001, "Unknown parameter %s", k)
		}
	}
	return nil
}

var pagingParams = []string{"PageSize", "Page", "PageToken"}

func noContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// ---- reset and snapshot ----

func (p *Parley) reset(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if _, err := controlForm(w, r); err != nil {
		return err
	}
	if err := p.api.svc.Reset(r.Context(), rc.scope.AccountSid); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (p *Parley) getSnapshot(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := controlQuery(r); err != nil {
		return err
	}
	s, err := p.api.svc.Snapshot(r.Context(), rc.scope.AccountSid)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, s); err != nil {
		return err
	}
	writeJSONBytes(w, http.StatusOK, buf.Bytes())
	return nil
}

func (p *Parley) postSnapshot(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	decode := snapshot.Decode
	switch mt {
	case "application/json":
	case "application/yaml", "application/x-yaml", "text/yaml":
		decode = snapshot.DecodeYAML
	default:
		return conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: a snapshot is posted as Content-Type application/json (or application/yaml), not %q", r.Header.Get("Content-Type"))
	}
	body := http.MaxBytesReader(w, r.Body, MaxSnapshotBytes)
	s, err := decode(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return conv.Errorf(conv.KindTooLarge, 20413, "Request Entity Too Large: a snapshot is at most %d bytes", mbe.Limit)
		}
		return conv.Errorf(conv.KindInvalid, 20422, "Invalid snapshot: %v", err)
	}
	if err := p.api.svc.Restore(r.Context(), rc.scope.AccountSid, s); err != nil {
		return err
	}
	noContent(w)
	return nil
}

// ---- clock ----

type clockJSON struct {
	Now    string `json:"now"`
	Offset string `json:"offset"`
}

// FormatISODuration writes d (>= 0, whole seconds) as an ISO 8601 duration: PT0S, PT2H,
// P1DT2H30M, ...
func FormatISODuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
		d -= days * 24 * time.Hour
	}
	if d > 0 {
		b.WriteByte('T')
		if h := d / time.Hour; h > 0 {
			b.WriteString(strconv.FormatInt(int64(h), 10) + "H")
			d -= h * time.Hour
		}
		if m := d / time.Minute; m > 0 {
			b.WriteString(strconv.FormatInt(int64(m), 10) + "M")
			d -= m * time.Minute
		}
		if d > 0 {
			b.WriteString(strconv.FormatInt(int64(d/time.Second), 10) + "S")
		}
	}
	return b.String()
}

func writeClock(w http.ResponseWriter, c conv.ClockState) {
	writeJSON(w, http.StatusOK, clockJSON{Now: c.Now.UTC().Format(time.RFC3339), Offset: FormatISODuration(c.Offset)})
}

func (p *Parley) getClock(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := controlQuery(r); err != nil {
		return err
	}
	writeClock(w, p.api.svc.ClockState())
	return nil
}

func (p *Parley) postClock(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := controlForm(w, r, "Advance", "Now")
	if err != nil {
		return err
	}
	adv, now := f.str("Advance"), f.str("Now")
	var st conv.ClockState
	switch {
	case adv != nil && now != nil, adv == nil && now == nil:
		return badParam("give exactly one of Advance (an ISO 8601 duration such as PT2H) and Now (an RFC 3339 time)")
	case adv != nil:
		d, ok := conv.ParseDuration(*adv)
		if !ok || d <= 0 {
			return badParam("Advance must be a positive ISO 8601 duration such as PT2H or P1D, not %q", *adv)
		}
		st, err = p.api.svc.AdvanceClock(r.Context(), d)
	default:
		t, perr := time.Parse(time.RFC3339, *now)
		if perr != nil {
			return badParam("Now must be an RFC 3339 time such as 2027-01-01T00:00:00Z, not %q", *now)
		}
		st, err = p.api.svc.SetClock(r.Context(), t)
	}
	if err != nil {
		return err
	}
	writeClock(w, st)
	return nil
}

// ---- faults ----

type faultJSON struct {
	Sid         string  `json:"sid"`
	AccountSid  string  `json:"account_sid"`
	Target      string  `json:"target"`
	Method      *string `json:"method"`
	Path        *string `json:"path"`
	URL         *string `json:"target_url"`
	Status      *int    `json:"status"`
	Code        *int    `json:"code"`
	Message     *string `json:"message"`
	Delay       *string `json:"delay"`
	Timeout     bool    `json:"timeout"`
	Count       int     `json:"count"`
	Remaining   int     `json:"remaining"`
	DateCreated twDate  `json:"date_created"`
	Self        string  `json:"url"`
}

func optInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func (rc *reqCtx) fault(f faults.Fault) faultJSON {
	out := faultJSON{Sid: f.Sid, AccountSid: f.AccountSid, Target: f.Target, Method: nullable(f.Method), Path: nullable(f.Path),
		URL: nullable(f.URL), Status: optInt(f.Status), Code: optInt(f.Code), Message: nullable(f.Message), Timeout: f.Timeout,
		Count: f.Count, Remaining: f.Remaining, DateCreated: twDate(f.DateCreated), Self: rc.base + "/parley/v1/Faults/" + f.Sid}
	if f.Delay > 0 {
		d := f.Delay.String()
		out.Delay = &d
	}
	return out
}

func (p *Parley) faultRegistry() (*faults.Registry, error) {
	if p.opts.Faults == nil {
		return nil, conv.Errorf(conv.KindNotImplemented, 20501, "Not implemented: fault injection is not enabled on this server")
	}
	return p.opts.Faults, nil
}

func (p *Parley) createFault(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	reg, err := p.faultRegistry()
	if err != nil {
		return err
	}
	fm, err := controlForm(w, r, "Target", "Method", "Path", "Url", "Status", "Code", "Message", "Delay", "Timeout", "Count")
	if err != nil {
		return err
	}
	f := faults.Fault{AccountSid: rc.scope.AccountSid, Target: formValue(fm, "Target"), Method: formValue(fm, "Method"), Path: formValue(fm, "Path"),
		URL: formValue(fm, "Url"), Message: formValue(fm, "Message")}
	for _, n := range []struct {
		key string
		dst *int
	}{{"Status", &f.Status}, {"Code", &f.Code}, {"Count", &f.Count}} {
		if v := fm.str(n.key); v != nil {
			x, perr := strconv.Atoi(*v)
			if perr != nil || x <= 0 {
				return badParam("%s must be a positive integer, not %q", n.key, *v)
			}
			*n.dst = x
		}
	}
	if v := fm.str("Delay"); v != nil {
		d, perr := time.ParseDuration(*v)
		if perr != nil || d <= 0 {
			if iso, ok := conv.ParseDuration(*v); ok && iso > 0 {
				d, perr = iso, nil
			} else {
				return badParam("Delay must be a positive duration such as 2s or PT2S, not %q", *v)
			}
		}
		f.Delay = d
	}
	if v := fm.str("Timeout"); v != nil {
		b, perr := strconv.ParseBool(*v)
		if perr != nil {
			return badParam("Timeout must be true or false, not %q", *v)
		}
		f.Timeout = b
	}
	added, err := reg.Add(f)
	if err != nil {
		return badParam("%s", strings.TrimPrefix(err.Error(), faults.ErrInvalid.Error()+": "))
	}
	writeJSON(w, http.StatusCreated, rc.fault(*added))
	return nil
}

// memPage selects one page of an in-memory list in list order (newest first: seq
// descending), in the shape pageOf expects (one row more than the page).
func memPage[T any](p pageReq, items []T, seq func(T) int64) []T {
	switch {
	case p.after > 0:
		i := 0
		for i < len(items) && seq(items[i]) >= p.after {
			i++
		}
		items = items[i:]
		return items[:min(len(items), p.size+1)]
	case p.before > 0:
		i := 0
		for i < len(items) && seq(items[i]) > p.before {
			i++
		}
		items = items[:i]
		return items[max(0, len(items)-(p.size+1)):]
	}
	off := p.page * p.size
	if off >= len(items) {
		return nil
	}
	items = items[off:]
	return items[:min(len(items), p.size+1)]
}

func (p *Parley) listFaults(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	reg, err := p.faultRegistry()
	if err != nil {
		return err
	}
	if err := controlQuery(r, pagingParams...); err != nil {
		return err
	}
	pg, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	all := reg.List(rc.scope.AccountSid)
	// Fault SIDs are not ordered numbers; their position (oldest = 1) is the paging key.
	seq := map[string]int64{}
	for i, f := range all {
		seq[f.Sid] = int64(len(all) - i)
	}
	key := func(f faults.Fault) int64 { return seq[f.Sid] }
	return writeList(w, pg, memPage(pg, all, key), key, rc.base+"/parley/v1/Faults", nil, "faults", rc.fault)
}

func (p *Parley) deleteFault(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	reg, err := p.faultRegistry()
	if err != nil {
		return err
	}
	if !reg.Delete(rc.scope.AccountSid, r.PathValue("Sid")) {
		return conv.NotFound()
	}
	noContent(w)
	return nil
}

// ---- inbound ----

type inboundJSON struct {
	AccountSid          string `json:"account_sid"`
	ConversationSid     string `json:"conversation_sid"`
	MessageSid          string `json:"message_sid"`
	ParticipantSid      string `json:"participant_sid"`
	CreatedConversation bool   `json:"created_conversation"`
}

func (p *Parley) inbound(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := controlForm(w, r, "From", "To", "Body", "MediaUrl", "MediaContentType0")
	if err != nil {
		return err
	}
	from, to := formValue(f, "From"), formValue(f, "To")
	if from == "" || to == "" {
		return conv.Errorf(conv.KindInvalid, 20001, "Missing required parameter From and To: the phone's address (e.g. +15558675310 or whatsapp:+15558675310) and the account's address it wrote to")
	}
	media := formValue(f, "MediaUrl")
	if f.str("Body") == nil && media == "" {
		return conv.Errorf(conv.KindInvalid, 20001, "Missing required parameter Body (or MediaUrl)")
	}
	res, err := p.api.svc.ReceiveInbound(r.Context(), conv.InboundMessage{AccountSid: rc.scope.AccountSid, From: from, To: to, Body: formValue(f, "Body"),
		MediaURL: media, MediaContentType: formValue(f, "MediaContentType0")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inboundJSON{AccountSid: rc.scope.AccountSid, ConversationSid: res.Conversation.Sid,
		MessageSid: res.Message.Sid, ParticipantSid: res.Message.ParticipantSid, CreatedConversation: res.Created})
	return nil
}

// ---- request log ----

type requestJSON struct {
	Sid        string              `json:"sid"`
	AccountSid string              `json:"account_sid"`
	Time       string              `json:"time"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Parameters map[string][]string `json:"parameters"`
	Status     int                 `json:"status"`
	ErrorCode  *int                `json:"error_code"`
	DurationMs float64             `json:"duration_ms"`
}

func (p *Parley) listRequests(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if p.opts.Requests == nil {
		return conv.Errorf(conv.KindNotImplemented, 20501, "Not implemented: the request log is not enabled on this server")
	}
	if err := controlQuery(r, append([]string{"Method", "Status", "PathPrefix"}, pagingParams...)...); err != nil {
		return err
	}
	q := r.URL.Query()
	pg, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	flt := reqlog.Filter{Method: q.Get("Method"), PathPrefix: q.Get("PathPrefix")}
	var filters [][2]string
	if v := q.Get("Method"); v != "" {
		if !slices.Contains([]string{"GET", "POST", "DELETE"}, strings.ToUpper(v)) {
			return badParam("Method must be GET, POST or DELETE, not %q", v)
		}
		filters = append(filters, [2]string{"Method", v})
	}
	if v := q.Get("Status"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 100 || n > 599 {
			return badParam("Status must be an HTTP status (100 to 599), not %q", v)
		}
		flt.Status = n
		filters = append(filters, [2]string{"Status", v})
	}
	if v := q.Get("PathPrefix"); v != "" {
		if !strings.HasPrefix(v, "/") {
			return badParam("PathPrefix must start with /, not %q", v)
		}
		filters = append(filters, [2]string{"PathPrefix", v})
	}
	all := p.opts.Requests.List(rc.scope.AccountSid, flt)
	key := func(e reqlog.Entry) int64 { return e.Seq }
	return writeList(w, pg, memPage(pg, all, key), key, rc.base+"/parley/v1/Requests", filters, "requests", func(e reqlog.Entry) requestJSON {
		return requestJSON{Sid: e.Sid, AccountSid: e.AccountSid, Time: e.Time.Format(time.RFC3339Nano), Method: e.Method, Path: e.Path,
			Parameters: e.Params, Status: e.Status, ErrorCode: optInt(e.ErrorCode), DurationMs: e.DurationMs}
	})
}

// ---- health ----

// Health answers GET /healthz: {"status":"ok"} when ping (the store's trivial query) succeeds
// within timeout, else 503 {"status":"unavailable"}. It needs no credentials.
func Health(ping func(context.Context) error, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"unavailable"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
}

// formValue returns the parameter's first value, "" when absent.
func formValue(f form, key string) string {
	if v := f.str(key); v != nil {
		return *v
	}
	return ""
}
