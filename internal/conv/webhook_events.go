package conv

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Sources of an action: the Source parameter of webhook requests. SMS and WHATSAPP are
// messages that arrived from a non-chat participant (see InboundSource). Timer-driven changes
// carry SourceTimer (their webhooks have no Source parameter, and Reason TIMER).
const (
	SourceAPI      = "API"
	SourceSDK      = "SDK"
	SourceSMS      = "SMS"
	SourceWhatsApp = "WHATSAPP"
	SourceTimer    = "TIMER"
)

// InboundSource returns the Source of a message that arrived from address from: WHATSAPP
// for a whatsapp: address, SMS otherwise.
func InboundSource(from string) string {
	if strings.HasPrefix(strings.ToLower(from), "whatsapp:") {
		return SourceWhatsApp
	}
	return SourceSMS
}

// consultsPreHooks reports whether an action from source consults pre-event webhooks: SDK
// actions and messages from SMS/WhatsApp participants do; REST actions (with or without
// X-Twilio-Webhook-Enabled) and timers do not.
func consultsPreHooks(source string) bool {
	switch source {
	case SourceSDK, SourceSMS, SourceWhatsApp:
		return true
	}
	return false
}

// PreHook calls one pre-event webhook: it sends Params to URL with Method (signed with
// AuthToken) and returns the HTTP answer. It returns an error when there was no answer
// (timeout, connection failure); the Service then lets the action through, as Twilio does.
type PreHook interface {
	CallPreHook(ctx context.Context, r PreHookRequest) (PreHookAnswer, error)
}

// PreHookRequest is one pre-event webhook request.
type PreHookRequest struct {
	AccountSid string
	AuthToken  string
	URL        string
	Method     string // GET or POST
	Params     url.Values
}

// PreHookAnswer is a pre-event webhook's HTTP answer.
type PreHookAnswer struct {
	StatusCode int
	Body       []byte
}

// preEventFields lists, per pre-event type, the fields a 200 JSON answer may change.
var preEventFields = map[string][]string{
	"onConversationAdd":    {"friendly_name"},
	"onConversationUpdate": {"friendly_name"},
	"onMessageAdd":         {"body", "author", "attributes"},
	"onMessageUpdate":      {"body", "author", "attributes"},
}

// event returns the event of a change of conversation c (and participant p) made with o.
func (s *Service) event(typ string, c *Conversation, p *Participant, o WriteOptions) Event {
	e := Event{Type: typ, Source: o.Source, WebhookEnabled: o.WebhookEnabled, Conversation: c, Participant: p, Time: s.clock()}
	if e.Source == "" {
		e.Source = SourceAPI
	}
	if e.Source == SourceSDK {
		e.ClientIdentity = o.ClientIdentity
	}
	if c != nil {
		e.AccountSid, e.ServiceSid, e.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
	}
	return e
}

// firesWebhooks reports whether e fires post-event webhooks: every SDK, SMS/WhatsApp or
// timer-driven change does; a REST change only when its request carried
// X-Twilio-Webhook-Enabled: true
// (Twilio's rule, so that an application's own REST calls do not loop back to it).
func firesWebhooks(e Event) bool {
	if e.Source == SourceAPI || e.Source == "" {
		return e.WebhookEnabled
	}
	return true
}

// FiresWebhooks reports whether e may have post-event webhook deliveries (see firesWebhooks):
// a REST change without X-Twilio-Webhook-Enabled: true never has.
func (e Event) FiresWebhooks() bool { return firesWebhooks(e) }

// webhookTarget is where one request of an event goes.
type webhookTarget struct {
	scope, webhookSid, url, method string
}

// configTarget returns c's target for event typ at url (pre or post), or false when c does
// not send it: no URL, typ not in the filters, or target flex (Flex is not part of Parley).
func configTarget(c *WebhookConfig, scope, typ, u string) (webhookTarget, bool) {
	if c == nil || u == "" || c.Target == TargetFlex || !slices.Contains(c.Filters, typ) {
		return webhookTarget{}, false
	}
	m := c.Method
	if m == "" {
		m = "POST"
	}
	return webhookTarget{scope: scope, url: u, method: m}, true
}

// postTargets returns where post-event e goes, as configured in st now: the account-level
// and service-level post-event URLs whose filters list e.Type, and the conversation's
// webhooks (target webhook whose filters list e.Type; target trigger for onMessageAdded
// whose body holds a trigger keyword; studio never: flows are not executed).
func postTargets(ctx context.Context, st Store, e Event) ([]webhookTarget, error) {
	var out []webhookTarget
	acct, err := getWebhookConfig(ctx, st, e.AccountSid, "")
	if err != nil {
		return nil, err
	}
	if acct != nil {
		if t, ok := configTarget(acct, WebhookScopeAccount, e.Type, acct.PostWebhookURL); ok {
			out = append(out, t)
		}
	}
	if e.ServiceSid != "" {
		svc, err := getWebhookConfig(ctx, st, e.AccountSid, e.ServiceSid)
		if err != nil {
			return nil, err
		}
		if svc != nil {
			if t, ok := configTarget(svc, WebhookScopeService, e.Type, svc.PostWebhookURL); ok {
				out = append(out, t)
			}
		}
	}
	if e.ConversationSid == "" || e.Type == "onConversationAdded" {
		return out, nil
	}
	ws, err := st.ListConversationWebhooks(ctx, e.ConversationSid, PageQuery{Size: 100})
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		fire := false
		switch w.Target {
		case TargetWebhook:
			fire = slices.Contains(w.Filters, e.Type)
		case TargetTrigger:
			fire = e.Type == "onMessageAdded" && e.Message != nil && e.Message.Body != nil && matchesTrigger(*e.Message.Body, w.Triggers)
		}
		if fire {
			out = append(out, webhookTarget{scope: WebhookScopeConversation, webhookSid: w.Sid, url: w.URL, method: strings.ToUpper(w.Method)})
		}
	}
	return out, nil
}

// matchesTrigger reports whether body contains one of the keywords as a whole word (or
// phrase), ignoring case.
func matchesTrigger(body string, keywords []string) bool {
	b := strings.ToLower(body)
	for _, k := range keywords {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		for i := 0; ; {
			j := strings.Index(b[i:], k)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(k)
			if wordEdge(b, start-1) && wordEdge(b, end) {
				return true
			}
			i = start + 1
		}
	}
	return false
}

// wordEdge reports whether position i of s is outside s or not a letter or digit.
func wordEdge(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return true
	}
	r := rune(s[i])
	return r < 0x80 && !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// emit writes the post-event webhook deliveries of events into tx, the write transaction of
// the change itself, so that a committed change always has its deliveries (the dispatcher
// sends them after commit, also after a crash). Targets and filters are resolved now: a
// configuration changed later does not alter what this change sends.
func (s *Service) emit(ctx context.Context, tx Store, events ...Event) error {
	var ds []*WebhookDelivery
	for _, e := range events {
		if !firesWebhooks(e) {
			continue
		}
		targets, err := postTargets(ctx, tx, e)
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			continue
		}
		params := eventParams(e).Encode()
		now := s.now().UTC()
		for _, t := range targets {
			ds = append(ds, &WebhookDelivery{Sid: s.sids.New(PrefixWebhookDelivery), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
				ConversationSid: e.ConversationSid, EventType: e.Type, Scope: t.scope, WebhookSid: t.webhookSid, URL: t.url,
				Method: t.method, Params: params, Status: WebhookPending, NextAttemptAt: now,
				DateCreated: now.Truncate(time.Second), DateUpdated: now.Truncate(time.Second)})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.EnqueueWebhookDeliveries(ctx, ds)
}

// ---- webhook parameters ----

func formatDate(t time.Time) string { return t.UTC().Format(DateFormat) }

// eventParams returns the form parameters of e's webhook request (without RetryCount, which
// the dispatcher adds per attempt): the common AccountSid, EventType, Source, ClientIdentity
// (SDK only) and ChatServiceSid, then the fields Twilio documents for the event type.
// Parameters whose value is null are left out.
func eventParams(e Event) url.Values {
	v := url.Values{}
	v.Set("EventType", e.Type)
	v.Set("AccountSid", e.AccountSid)
	switch e.Source {
	case SourceAPI, SourceSDK, SourceSMS, SourceWhatsApp:
		v.Set("Source", e.Source)
	case "":
		v.Set("Source", SourceAPI)
	}
	if e.Source == SourceSDK && e.ClientIdentity != "" {
		v.Set("ClientIdentity", e.ClientIdentity)
	}
	if e.ServiceSid != "" {
		v.Set("ChatServiceSid", e.ServiceSid)
	}
	switch {
	case strings.HasPrefix(e.Type, "onUser") && e.User != nil:
		userWebhookParams(v, e)
	case strings.HasPrefix(e.Type, "onParticipant") && e.Participant != nil:
		participantParams(v, e)
	case strings.HasPrefix(e.Type, "onMessage") && e.Message != nil:
		messageParams(v, e)
	case e.Type == "onConversationStateUpdated" && e.Conversation != nil:
		stateParams(v, e)
	case strings.HasPrefix(e.Type, "onConversation") && e.Conversation != nil:
		conversationParams(v, e)
	}
	return v
}

func setOpt(v url.Values, key string, p *string) {
	if p != nil {
		v.Set(key, *p)
	}
}

func setNonEmpty(v url.Values, key, val string) {
	if val != "" {
		v.Set(key, val)
	}
}

// conversationParams: onConversationAdd carries the proposed FriendlyName, UniqueName,
// Attributes, MessagingServiceSid and State; the others add ConversationSid, DateCreated and
// DateUpdated, and onConversationRemoved DateRemoved.
func conversationParams(v url.Values, e Event) {
	c := e.Conversation
	if e.Type != "onConversationAdd" {
		v.Set("ConversationSid", c.Sid)
		v.Set("DateCreated", formatDate(c.DateCreated))
		v.Set("DateUpdated", formatDate(c.DateUpdated))
	}
	setOpt(v, "FriendlyName", c.FriendlyName)
	setOpt(v, "UniqueName", c.UniqueName)
	v.Set("Attributes", c.Attributes)
	setNonEmpty(v, "MessagingServiceSid", c.MessagingServiceSid)
	v.Set("State", c.State)
	if e.Type == "onConversationRemoved" {
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// stateParams: onConversationStateUpdated carries ConversationSid, StateFrom, StateTo,
// StateUpdated, Reason (API, TIMER, or EVENT when a message caused it) and
// MessagingServiceSid.
func stateParams(v url.Values, e Event) {
	c := e.Conversation
	v.Set("ConversationSid", c.Sid)
	setNonEmpty(v, "StateFrom", e.StateFrom)
	v.Set("StateTo", c.State)
	v.Set("StateUpdated", formatDate(e.Time))
	reason := "API"
	switch {
	case e.Source == SourceTimer:
		reason = "TIMER"
	case e.Message != nil: // a new message reactivated the conversation
		reason = "EVENT"
	}
	v.Set("Reason", reason)
	setNonEmpty(v, "MessagingServiceSid", c.MessagingServiceSid)
}

// participantParams: ConversationSid, ParticipantSid (not on onParticipantAdd), Identity,
// RoleSid, Attributes, MessagingBinding.Type (CHAT, SMS, WHATSAPP, ...) and its addresses,
// DateCreated (not on onParticipantAdd), DateUpdated (update and remove events),
// LastReadMessageIndex/LastReadTimestamp (update events) and DateRemoved (onParticipantRemoved).
func participantParams(v url.Values, e Event) {
	p := e.Participant
	v.Set("ConversationSid", p.ConversationSid)
	if e.Type != "onParticipantAdd" {
		v.Set("ParticipantSid", p.Sid)
	}
	setOpt(v, "Identity", p.Identity)
	setNonEmpty(v, "RoleSid", p.RoleSid)
	v.Set("Attributes", p.Attributes)
	if b := p.Binding; b != nil {
		v.Set("MessagingBinding.Type", strings.ToUpper(b.Type))
		setNonEmpty(v, "MessagingBinding.Address", b.Address)
		setNonEmpty(v, "MessagingBinding.ProxyAddress", b.ProxyAddress)
		setNonEmpty(v, "MessagingBinding.ProjectedAddress", b.ProjectedAddress)
	} else {
		v.Set("MessagingBinding.Type", "CHAT")
	}
	if e.Type != "onParticipantAdd" {
		v.Set("DateCreated", formatDate(p.DateCreated))
	}
	switch e.Type {
	case "onParticipantUpdate", "onParticipantUpdated":
		v.Set("DateUpdated", formatDate(p.DateUpdated))
		if p.LastReadMessageIndex != nil {
			v.Set("LastReadMessageIndex", strconv.FormatInt(*p.LastReadMessageIndex, 10))
		}
		setOpt(v, "LastReadTimestamp", p.LastReadTimestamp)
	case "onParticipantRemove":
		v.Set("DateUpdated", formatDate(p.DateUpdated))
	case "onParticipantRemoved":
		v.Set("DateUpdated", formatDate(p.DateUpdated))
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// messageParams: ConversationSid, Body, Author, ParticipantSid, Attributes; all but
// onMessageAdd add MessageSid, Index and DateCreated, MessagingServiceSid when the
// conversation has one, update events DateUpdated and onMessageRemoved DateRemoved.
func messageParams(v url.Values, e Event) {
	m := e.Message
	v.Set("ConversationSid", m.ConversationSid)
	setOpt(v, "Body", m.Body)
	v.Set("Author", m.Author)
	setNonEmpty(v, "ParticipantSid", m.ParticipantSid)
	v.Set("Attributes", m.Attributes)
	if e.Type != "onMessageAdd" {
		v.Set("MessageSid", m.Sid)
		v.Set("Index", strconv.FormatInt(m.Index, 10))
		v.Set("DateCreated", formatDate(m.DateCreated))
		if e.Conversation != nil {
			setNonEmpty(v, "MessagingServiceSid", e.Conversation.MessagingServiceSid)
		}
	}
	switch e.Type {
	case "onMessageUpdate", "onMessageUpdated":
		v.Set("DateUpdated", formatDate(m.DateUpdated))
	case "onMessageRemoved":
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// ---- pre-event webhooks ----

// preTargets returns where pre-event typ goes for service svc: the account-level and
// service-level pre-event URLs whose filters list typ.
func preTargets(ctx context.Context, st Store, accountSid, serviceSid, typ string) ([]webhookTarget, error) {
	var out []webhookTarget
	for _, scope := range []struct{ name, service string }{{WebhookScopeAccount, ""}, {WebhookScopeService, serviceSid}} {
		c, err := getWebhookConfig(ctx, st, accountSid, scope.service)
		if err != nil {
			return nil, err
		}
		if c != nil {
			if t, ok := configTarget(c, scope.name, typ, c.PreWebhookURL); ok {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// preEvent consults the pre-event webhooks of e (a pre-event type such as
// onParticipantAdd, its entities holding the proposed state) for an SDK action or a message
// from an SMS/WhatsApp participant, in order:
// account level, then service level. A 4xx or 5xx answer rejects the action (50056, 403); no
// answer (timeout after 5 s, connection failure) lets it through unchanged; a 2xx answer
// with a JSON object may change the fields Twilio lets that event change (preEventFields;
// nothing for participant events). It returns those changes by JSON name. REST actions
// never consult pre-event webhooks (Twilio fires them for SDK actions only), so for them it
// returns nil, nil.
func (s *Service) preEvent(ctx context.Context, e Event) (map[string]string, error) {
	if !consultsPreHooks(e.Source) || s.preHook == nil {
		return nil, nil
	}
	targets, err := preTargets(ctx, s.store, e.AccountSid, e.ServiceSid, e.Type)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	acct, err := s.store.GetAccount(ctx, e.AccountSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	var mods map[string]string
	for _, t := range targets {
		params := eventParams(e)
		for k, v := range mods { // a later hook sees what an earlier one changed
			params.Set(wireParam(k), v)
		}
		ans, err := s.preHook.CallPreHook(ctx, PreHookRequest{AccountSid: e.AccountSid, AuthToken: acct.AuthToken,
			URL: t.url, Method: t.method, Params: params})
		if err != nil {
			continue // no answer: published unmodified
		}
		if ans.StatusCode >= 400 && ans.StatusCode <= 599 {
			return nil, Errorf(KindForbidden, 50056, "Webhook disabled processing of command: the %s pre-event webhook %s answered %d",
				e.Type, t.url, ans.StatusCode)
		}
		if ans.StatusCode < 200 || ans.StatusCode > 299 {
			continue
		}
		for k, v := range preAnswerFields(ans.Body, preEventFields[e.Type]) {
			if mods == nil {
				mods = map[string]string{}
			}
			mods[k] = v
		}
	}
	return mods, nil
}

// wireParam is the webhook parameter of a modifiable JSON field.
func wireParam(field string) string {
	switch field {
	case "friendly_name":
		return "FriendlyName"
	case "body":
		return "Body"
	case "author":
		return "Author"
	case "attributes":
		return "Attributes"
	}
	return field
}

// preAnswerFields returns the allowed fields of a pre-event webhook's JSON answer: string
// values as they are, other JSON values (attributes given as an object) as JSON text. An
// empty body, "{}" or anything that is not a JSON object changes nothing.
func preAnswerFields(body []byte, allowed []string) map[string]string {
	if len(allowed) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil
	}
	out := map[string]string{}
	for _, k := range allowed {
		raw, ok := obj[k]
		if !ok || string(raw) == "null" {
			continue
		}
		var str string
		if err := json.Unmarshal(raw, &str); err == nil {
			out[k] = str
		} else {
			out[k] = string(raw)
		}
	}
	return out
}

// emitConversationUpdated emits onConversationUpdated for c and, when its state moved from
// from, onConversationStateUpdated (Reason API).
func (s *Service) emitConversationUpdated(ctx context.Context, tx Store, c *Conversation, from string, o WriteOptions) error {
	evs := []Event{s.event("onConversationUpdated", c, nil, o)}
	if c.State != from {
		st := s.event("onConversationStateUpdated", c, nil, o)
		st.StateFrom = from
		evs = append(evs, st)
	}
	return s.emit(ctx, tx, evs...)
}

// userWebhookParams: onUserAdded/onUserUpdate(d) carry UserSid, Identity, FriendlyName, RoleSid,
// Attributes, DateCreated and DateUpdated.
func userWebhookParams(v url.Values, e Event) {
	u := e.User
	v.Set("UserSid", u.Sid)
	v.Set("Identity", u.Identity)
	setOpt(v, "FriendlyName", u.FriendlyName)
	setNonEmpty(v, "RoleSid", u.RoleSid)
	v.Set("Attributes", u.Attributes)
	v.Set("DateCreated", formatDate(u.DateCreated))
	v.Set("DateUpdated", formatDate(u.DateUpdated))
}

// messageEvent returns the event of a change of message m of conversation c made with o.
func (s *Service) messageEvent(typ string, c *Conversation, m *Message, o WriteOptions) Event {
	e := s.event(typ, c, nil, o)
	e.Message = m
	return e
}

// emitMessageAdded emits onMessageAdded for m and, when the message made conversation c
// active again, onConversationStateUpdated (inactive to active, Reason EVENT).
func (s *Service) emitMessageAdded(ctx context.Context, tx Store, c *Conversation, m *Message, activated bool, o WriteOptions) error {
	evs := []Event{s.messageEvent("onMessageAdded", c, m, o)}
	if activated {
		st := s.messageEvent("onConversationStateUpdated", c, m, o)
		st.StateFrom = StateInactive
		evs = append(evs, st)
	}
	return s.emit(ctx, tx, evs...)
}
