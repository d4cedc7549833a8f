package httpapi

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// webhookRoutes registers the webhook configuration operations of Conversations v1.
func (a *API) webhookRoutes() {
	a.route("GET", "/v1/Configuration/Webhooks", a.fetchAccountWebhooks)
	a.route("POST", "/v1/Configuration/Webhooks", a.updateAccountWebhooks)
	a.route("GET", "/v1/Services/{ChatServiceSid}/Configuration/Webhooks", a.fetchServiceWebhooks)
	a.route("POST", "/v1/Services/{ChatServiceSid}/Configuration/Webhooks", a.updateServiceWebhooks)
	a.both("POST", "/Conversations/{ConversationSid}/Webhooks", a.createConversationWebhook)
	a.both("GET", "/Conversations/{ConversationSid}/Webhooks", a.listConversationWebhooks)
	a.both("GET", "/Conversations/{ConversationSid}/Webhooks/{Sid}", a.fetchConversationWebhook)
	a.both("POST", "/Conversations/{ConversationSid}/Webhooks/{Sid}", a.updateConversationWebhook)
	a.both("DELETE", "/Conversations/{ConversationSid}/Webhooks/{Sid}", a.deleteConversationWebhook)
}

// webhookDeliveryRoutes registers Parley's own delivery log on the /parley/v1 handler:
//
//	GET /parley/v1/Webhooks/Deliveries          the account's webhook deliveries, oldest first
//	GET  /parley/v1/Webhooks/Deliveries/{Sid}           one delivery, with its attempt history
//	GET  /parley/v1/Webhooks/Deliveries/{Sid}/Attempts  its attempts, paged
//	POST /parley/v1/Webhooks/Deliveries/{Sid}/Resend    a fresh delivery of the same request (201)
func (p *Parley) webhookDeliveryRoutes() {
	p.api.route("GET", "/parley/v1/Webhooks/Deliveries", p.api.listWebhookDeliveries)
	p.api.route("GET", "/parley/v1/Webhooks/Deliveries/{Sid}", p.api.fetchWebhookDelivery)
	p.api.route("GET", "/parley/v1/Webhooks/Deliveries/{Sid}/Attempts", p.api.listWebhookAttempts)
	p.api.route("POST", "/parley/v1/Webhooks/Deliveries/{Sid}/Resend", p.api.resendWebhookDelivery)
}

// ---- account-level and service-level configuration ----

type accountWebhookJSON struct {
	AccountSid     string   `json:"account_sid"`
	Method         *string  `json:"method"`
	Filters        []string `json:"filters"`
	PreWebhookURL  *string  `json:"pre_webhook_url"`
	PostWebhookURL *string  `json:"post_webhook_url"`
	Target         *string  `json:"target"`
	URL            string   `json:"url"`
}

type serviceWebhookJSON struct {
	AccountSid     string   `json:"account_sid"`
	ChatServiceSid string   `json:"chat_service_sid"`
	PreWebhookURL  *string  `json:"pre_webhook_url"`
	PostWebhookURL *string  `json:"post_webhook_url"`
	Filters        []string `json:"filters"`
	Method         *string  `json:"method"`
	URL            string   `json:"url"`
}

func (rc *reqCtx) accountWebhooks(c *conv.WebhookConfig) accountWebhookJSON {
	return accountWebhookJSON{AccountSid: c.AccountSid, Method: nullable(c.Method), Filters: c.Filters,
		PreWebhookURL: nullable(c.PreWebhookURL), PostWebhookURL: nullable(c.PostWebhookURL), Target: nullable(c.Target),
		URL: rc.base + "/v1/Configuration/Webhooks"}
}

func (rc *reqCtx) serviceWebhooks(c *conv.WebhookConfig) serviceWebhookJSON {
	return serviceWebhookJSON{AccountSid: c.AccountSid, ChatServiceSid: c.ServiceSid, PreWebhookURL: nullable(c.PreWebhookURL),
		PostWebhookURL: nullable(c.PostWebhookURL), Filters: c.Filters, Method: nullable(c.Method),
		URL: rc.base + "/v1/Services/" + c.ServiceSid + "/Configuration/Webhooks"}
}

func webhookConfigParams(f form) conv.WebhookConfigParams {
	p := conv.WebhookConfigParams{PreWebhookURL: f.str("PreWebhookUrl"), PostWebhookURL: f.str("PostWebhookUrl"),
		Method: f.str("Method"), Target: f.str("Target")}
	if vs, ok := f["Filters"]; ok {
		p.Filters, p.FiltersGiven = vs, true
	}
	return p
}

func (a *API) fetchAccountWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.FetchAccountWebhookConfig(r.Context(), rc.scope.AccountSid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.accountWebhooks(c))
	return nil
}

func (a *API) updateAccountWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateAccountWebhookConfig(r.Context(), rc.scope.AccountSid, webhookConfigParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.accountWebhooks(c))
	return nil
}

func (a *API) fetchServiceWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.FetchServiceWebhookConfig(r.Context(), rc.scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.serviceWebhooks(c))
	return nil
}

func (a *API) updateServiceWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateServiceWebhookConfig(r.Context(), rc.scope, webhookConfigParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.serviceWebhooks(c))
	return nil
}

// ---- conversation-scoped webhooks ----

type conversationWebhookJSON struct {
	Sid             string         `json:"sid"`
	AccountSid      string         `json:"account_sid"`
	ChatServiceSid  *string        `json:"chat_service_sid,omitempty"` // service URL form only
	ConversationSid string         `json:"conversation_sid"`
	Target          string         `json:"target"`
	URL             string         `json:"url"`
	Configuration   map[string]any `json:"configuration"`
	DateCreated     twDate         `json:"date_created"`
	DateUpdated     twDate         `json:"date_updated"`
}

// webhookConfiguration is the configuration object of a conversation-scoped webhook: url,
// method and filters for target webhook; url, method, triggers (and filters when set) for
// trigger; flow_sid (and filters when set) for studio; replay_after when set.
func webhookConfiguration(wh *conv.ConversationWebhook) map[string]any {
	m := map[string]any{}
	switch wh.Target {
	case conv.TargetWebhook:
		m["url"], m["method"], m["filters"] = wh.URL, wh.Method, nonNil(wh.Filters)
	case conv.TargetTrigger:
		m["url"], m["method"], m["triggers"] = wh.URL, wh.Method, nonNil(wh.Triggers)
		if len(wh.Filters) > 0 {
			m["filters"] = wh.Filters
		}
	case conv.TargetStudio:
		m["flow_sid"] = wh.FlowSid
		if len(wh.Filters) > 0 {
			m["filters"] = wh.Filters
		}
	}
	if wh.ReplayAfter != nil {
		m["replay_after"] = *wh.ReplayAfter
	}
	return m
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func (rc *reqCtx) conversationWebhook(wh *conv.ConversationWebhook) conversationWebhookJSON {
	out := conversationWebhookJSON{Sid: wh.Sid, AccountSid: wh.AccountSid, ConversationSid: wh.ConversationSid, Target: wh.Target,
		URL:           rc.conversationURL(wh.ServiceSid, wh.ConversationSid) + "/Webhooks/" + wh.Sid,
		Configuration: webhookConfiguration(wh), DateCreated: twDate(wh.DateCreated), DateUpdated: twDate(wh.DateUpdated)}
	if rc.serviceForm {
		out.ChatServiceSid = &wh.ServiceSid
	}
	return out
}

func conversationWebhookParams(f form) conv.ConversationWebhookParams {
	p := conv.ConversationWebhookParams{Target: f.str("Target"), URL: f.str("Configuration.Url"), Method: f.str("Configuration.Method"),
		FlowSid: f.str("Configuration.FlowSid"), ReplayAfter: f.str("Configuration.ReplayAfter")}
	if vs, ok := f["Configuration.Filters"]; ok {
		p.Filters, p.FiltersGiven = vs, true
	}
	if vs, ok := f["Configuration.Triggers"]; ok {
		p.Triggers, p.TriggersGiven = vs, true
	}
	return p
}

func (a *API) createConversationWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	wh, err := a.svc.CreateConversationWebhook(r.Context(), rc.scope, r.PathValue("ConversationSid"), conversationWebhookParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.conversationWebhook(wh))
	return nil
}

func (a *API) fetchConversationWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	wh, err := a.svc.FetchConversationWebhook(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.conversationWebhook(wh))
	return nil
}

func (a *API) listConversationWebhooks(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	convRef := r.PathValue("ConversationSid")
	items, err := a.svc.ListConversationWebhooks(r.Context(), rc.scope, convRef, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations/" + escapeSegment(convRef) + "/Webhooks"
	return writeList(w, p, items, func(x *conv.ConversationWebhook) int64 { return x.Seq }, listURL, nil, "webhooks", rc.conversationWebhook)
}

func (a *API) updateConversationWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	p := conversationWebhookParams(f)
	if p.Target != nil {
		return conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: the Target of a conversation webhook cannot be changed")
	}
	wh, err := a.svc.UpdateConversationWebhook(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.conversationWebhook(wh))
	return nil
}

func (a *API) deleteConversationWebhook(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteConversationWebhook(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Parley's delivery log ----

// webhookDeliveryJSON is one entry of Parley's webhook delivery log.
type webhookDeliveryJSON struct {
	Sid             string            `json:"sid"`
	AccountSid      string            `json:"account_sid"`
	ChatServiceSid  *string           `json:"chat_service_sid"`
	ConversationSid *string           `json:"conversation_sid"`
	EventType       string            `json:"event_type"`
	Scope           string            `json:"scope"`       // account, service or conversation
	WebhookSid      *string           `json:"webhook_sid"` // the conversation-scoped webhook
	WebhookURL      string            `json:"webhook_url"`
	Method          string            `json:"method"`
	Status          string            `json:"status"` // pending, delivered or failed
	Attempts        int               `json:"attempts"`
	LastStatusCode  *int              `json:"last_response_code"`
	LastError       *string           `json:"last_error"`
	NextAttemptAt   *twDate           `json:"next_attempt_at"`
	Parameters      map[string]string `json:"parameters"` // without RetryCount (one per attempt)
	DateCreated     twDate            `json:"date_created"`
	DateUpdated     twDate            `json:"date_updated"`
	DateDelivered   *twDate           `json:"date_delivered"`
	ResentFrom      *string           `json:"resent_from"` // the delivery this one resends
	URL             string            `json:"url"`
	// AttemptHistory is the delivery's attempts (fetch only; "attempts" is their count).
	AttemptHistory []webhookAttemptJSON `json:"attempt_history,omitempty"`
}

// webhookAttemptJSON is one attempt of a delivery: the request as sent and what came back.
type webhookAttemptJSON struct {
	Attempt      int                   `json:"attempt"`
	DateCreated  string                `json:"date_created"` // millisecond precision
	Request      webhookAttemptRequest `json:"request"`
	ResponseCode *int                  `json:"response_code"`
	ResponseBody *string               `json:"response_body"` // the first 4 KiB
	Error        *string               `json:"error"`
	DurationMs   int64                 `json:"duration_ms"`
}

type webhookAttemptRequest struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func webhookAttempt(a *conv.WebhookAttempt) webhookAttemptJSON {
	h := a.RequestHeaders
	if h == nil {
		h = map[string]string{}
	}
	out := webhookAttemptJSON{Attempt: a.Attempt, DateCreated: a.Date.UTC().Format("2006-01-02T15:04:05.000Z"),
		Request: webhookAttemptRequest{URL: a.RequestURL, Method: a.RequestMethod, Headers: h, Body: a.RequestBody},
		Error:   nullable(a.Error), DurationMs: a.Duration.Milliseconds()}
	if a.ResponseStatus != 0 {
		out.ResponseCode = &a.ResponseStatus
		out.ResponseBody = &a.ResponseBody
	}
	return out
}

func (rc *reqCtx) webhookDelivery(d *conv.WebhookDelivery) webhookDeliveryJSON {
	out := webhookDeliveryJSON{Sid: d.Sid, AccountSid: d.AccountSid, ChatServiceSid: nullable(d.ServiceSid),
		ConversationSid: nullable(d.ConversationSid), EventType: d.EventType, Scope: d.Scope, WebhookSid: nullable(d.WebhookSid),
		WebhookURL: d.URL, Method: d.Method, Status: d.Status, Attempts: d.Attempts, LastError: nullable(d.LastError),
		Parameters: map[string]string{}, DateCreated: twDate(d.DateCreated), DateUpdated: twDate(d.DateUpdated),
		DateDelivered: datePtr(d.DateDelivered), ResentFrom: nullable(d.ResentFrom), URL: rc.base + "/parley/v1/Webhooks/Deliveries/" + d.Sid}
	if d.LastStatusCode != 0 {
		out.LastStatusCode = &d.LastStatusCode
	}
	if d.Status == conv.WebhookPending {
		t := d.NextAttemptAt.Add(time.Second - time.Nanosecond).Truncate(time.Second) // not earlier than due
		out.NextAttemptAt = datePtr(&t)
	}
	if vals, err := url.ParseQuery(d.Params); err == nil {
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.Parameters[k] = vals.Get(k)
		}
	}
	return out
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	f := conv.WebhookDeliveryFilter{Status: q.Get("Status"), EventType: q.Get("EventType"), ConversationSid: q.Get("ConversationSid")}
	var filters [][2]string
	for _, k := range []string{"Status", "EventType", "ConversationSid"} {
		if v := q.Get(k); v != "" {
			filters = append(filters, [2]string{k, v})
		}
	}
	items, err := a.svc.ListWebhookDeliveries(r.Context(), rc.scope.AccountSid, f, p.query())
	if err != nil {
		return err
	}
	return writeList(w, p, items, func(d *conv.WebhookDelivery) int64 { return d.Seq }, rc.base+"/parley/v1/Webhooks/Deliveries", filters, "deliveries", rc.webhookDelivery)
}

func (a *API) fetchWebhookDelivery(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := a.svc.FetchWebhookDelivery(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	// The history of one delivery is short (at most the dispatcher's MaxAttempts, 6 by
	// default); the paged Attempts list has the rest should there be more.
	as, err := a.svc.ListWebhookAttempts(r.Context(), rc.scope.AccountSid, d.Sid, conv.PageQuery{Size: maxInlineAttempts})
	if err != nil {
		return err
	}
	out := rc.webhookDelivery(d)
	out.AttemptHistory = make([]webhookAttemptJSON, 0, len(as))
	for _, x := range as {
		out.AttemptHistory = append(out.AttemptHistory, webhookAttempt(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxInlineAttempts bounds the attempt history a delivery's fetch includes.
const maxInlineAttempts = 100

func (a *API) listWebhookAttempts(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	sid := r.PathValue("Sid")
	items, err := a.svc.ListWebhookAttempts(r.Context(), rc.scope.AccountSid, sid, p.query())
	if err != nil {
		return err
	}
	return writeList(w, p, items, func(x *conv.WebhookAttempt) int64 { return x.Seq },
		rc.base+"/parley/v1/Webhooks/Deliveries/"+escapeSegment(sid)+"/Attempts", nil, "attempts", webhookAttempt)
}

func (a *API) resendWebhookDelivery(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := a.svc.ResendWebhookDelivery(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.webhookDelivery(d))
	return nil
}
