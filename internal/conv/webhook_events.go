package conv

import (
	"context"
	"slices"
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

// WebhookFormat renders events as the requests webhooks receive (package webhook owns that
// wire format).
type WebhookFormat interface {
	// EncodeEvent returns the encoded form parameters of e's post-event request, without
	// RetryCount (the dispatcher adds it per attempt). emit stores them with each delivery.
	EncodeEvent(e Event) string
}

// PreHook calls one pre-event webhook: it sends the request of Event (with the Changes of the
// hooks called before it) to URL with Method, signed with AuthToken, and returns the HTTP
// answer. It returns an error when there was no answer (timeout, connection failure); the
// Service then lets the action through, as Twilio does.
type PreHook interface {
	CallPreHook(ctx context.Context, r PreHookRequest) (PreHookAnswer, error)
}

// PreHookRequest is one pre-event webhook request.
type PreHookRequest struct {
	AccountSid string
	AuthToken  string
	URL        string
	Method     string // GET or POST
	// Event is the pre-event, its entities holding the proposed state.
	Event Event
	// Changes are what earlier hooks of the same action changed (the request shows them).
	Changes PreEventChanges
}

// PreHookAnswer is a pre-event webhook's HTTP answer.
type PreHookAnswer struct {
	StatusCode int
	// Changes are the fields the answer sets (a 2xx answer with a JSON object); the Service
	// keeps those the event type lets a hook change.
	Changes PreEventChanges
}

// PreEventChanges are the fields a pre-event webhook's answer may change; nil leaves one alone.
type PreEventChanges struct {
	FriendlyName *string // onConversationAdd, onConversationUpdate
	Body         *string // onMessageAdd, onMessageUpdate
	Author       *string // onMessageAdd, onMessageUpdate
	Attributes   *string // onMessageAdd, onMessageUpdate
}

// allowedChanges returns the part of ch a hook of pre-event typ may change.
func allowedChanges(typ EventType, ch PreEventChanges) PreEventChanges {
	switch typ {
	case EventConversationAdd, EventConversationUpdate:
		return PreEventChanges{FriendlyName: ch.FriendlyName}
	case EventMessageAdd, EventMessageUpdate:
		return PreEventChanges{Body: ch.Body, Author: ch.Author, Attributes: ch.Attributes}
	}
	return PreEventChanges{}
}

// merge returns ch with the fields later sets.
func (ch PreEventChanges) merge(later PreEventChanges) PreEventChanges {
	for _, f := range []struct{ dst, src **string }{{&ch.FriendlyName, &later.FriendlyName}, {&ch.Body, &later.Body},
		{&ch.Author, &later.Author}, {&ch.Attributes, &later.Attributes}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	return ch
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
func configTarget(c *WebhookConfig, scope string, typ EventType, u string) (webhookTarget, bool) {
	if c == nil || u == "" || c.Target == TargetFlex || !slices.Contains(c.Filters, string(typ)) {
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
	if e.ConversationSid == "" || e.Type == EventConversationAdded {
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
			fire = slices.Contains(w.Filters, string(e.Type))
		case TargetTrigger:
			fire = e.Type == EventMessageAdded && e.Message != nil && e.Message.Body != nil && matchesTrigger(*e.Message.Body, w.Triggers)
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
	if err := s.recordChanges(ctx, tx, events); err != nil {
		return err
	}
	if s.format == nil {
		return nil
	}
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
		params := s.format.EncodeEvent(e)
		now := s.now().UTC()
		for _, t := range targets {
			ds = append(ds, &WebhookDelivery{Sid: s.sids.New(PrefixWebhookDelivery), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
				ConversationSid: e.ConversationSid, EventType: string(e.Type), Scope: t.scope, WebhookSid: t.webhookSid, URL: t.url,
				Method: t.method, Params: params, Status: WebhookPending, NextAttemptAt: now,
				DateCreated: now.Truncate(time.Second), DateUpdated: now.Truncate(time.Second)})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.EnqueueWebhookDeliveries(ctx, ds)
}

// ---- pre-event webhooks ----

// preTargets returns where pre-event typ goes for service svc: the account-level and
// service-level pre-event URLs whose filters list typ.
func preTargets(ctx context.Context, st Store, accountSid, serviceSid string, typ EventType) ([]webhookTarget, error) {
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
// with a JSON object may change the fields Twilio lets that event change (allowedChanges;
// nothing for participant events), and preEvent returns those changes. REST
// actions never consult pre-event webhooks (Twilio fires them for SDK actions only), so for
// them it returns no changes.
func (s *Service) preEvent(ctx context.Context, e Event) (PreEventChanges, error) {
	var ch PreEventChanges
	if !consultsPreHooks(e.Source) || s.preHook == nil {
		return ch, nil
	}
	targets, err := preTargets(ctx, s.store, e.AccountSid, e.ServiceSid, e.Type)
	if err != nil || len(targets) == 0 {
		return ch, err
	}
	acct, err := s.store.GetAccount(ctx, e.AccountSid)
	if err != nil {
		return ch, mapStoreErr(err)
	}
	for _, t := range targets {
		// A later hook sees what an earlier one changed.
		ans, err := s.preHook.CallPreHook(ctx, PreHookRequest{AccountSid: e.AccountSid, AuthToken: acct.AuthToken,
			URL: t.url, Method: t.method, Event: e, Changes: ch})
		if err != nil {
			continue // no answer: published unmodified
		}
		if ans.StatusCode >= 400 && ans.StatusCode <= 599 {
			return PreEventChanges{}, Errorf(KindForbidden, 50056, "Webhook disabled processing of command: the %s pre-event webhook %s answered %d",
				e.Type, t.url, ans.StatusCode)
		}
		if ans.StatusCode < 200 || ans.StatusCode > 299 {
			continue
		}
		ch = ch.merge(allowedChanges(e.Type, ans.Changes))
	}
	return ch, nil
}

// emitConversationUpdated emits onConversationUpdated for c and, when its state moved from
// from, onConversationStateUpdated (Reason API).
func (s *Service) emitConversationUpdated(ctx context.Context, tx Store, c *Conversation, from string, o WriteOptions) error {
	evs := []Event{s.event(EventConversationUpdated, c, nil, o)}
	if c.State != from {
		st := s.event(EventConversationStateUpdated, c, nil, o)
		st.StateFrom = from
		evs = append(evs, st)
	}
	return s.emit(ctx, tx, evs...)
}

// emitMessageAdded emits onMessageAdded for m and, when the message made conversation c
// active again, onConversationStateUpdated (inactive to active, Reason EVENT).
func (s *Service) emitMessageAdded(ctx context.Context, tx Store, c *Conversation, m *Message, activated bool, o WriteOptions) error {
	evs := []Event{s.messageEvent(EventMessageAdded, c, m, o)}
	if activated {
		st := s.messageEvent(EventConversationStateUpdated, c, m, o)
		st.StateFrom = StateInactive
		evs = append(evs, st)
	}
	return s.emit(ctx, tx, evs...)
}
