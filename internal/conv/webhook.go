package conv

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Webhook limits (see docs/compatibility.md).
const (
	// MaxConversationWebhooks is how many webhooks one conversation may have (50361).
	MaxConversationWebhooks = 5
	// MaxConversationWebhookURLLen is the longest conversation-scoped webhook URL (50372).
	MaxConversationWebhookURLLen = 512
	// MaxWebhookURLLen is the longest account- or service-level webhook URL.
	MaxWebhookURLLen = 2048
	// MaxWebhookTriggers is how many keywords a trigger webhook may have (50362).
	MaxWebhookTriggers = 20
	// MaxWebhookTriggerLen is the longest trigger keyword (50366).
	MaxWebhookTriggerLen = 256
)

// Event types of Conversations webhooks. Pre-events (onXAdd) fire before a change and may
// reject it; post-events (onXAdded) fire after it.
var (
	// PostEvents are the post-event types.
	PostEvents = eventNames(EventConversationAdded, EventConversationUpdated, EventConversationRemoved, EventConversationStateUpdated,
		EventParticipantAdded, EventParticipantUpdated, EventParticipantRemoved,
		EventMessageAdded, EventMessageUpdated, EventMessageRemoved, EventDeliveryUpdated, EventUserAdded, EventUserUpdated)
	// PreEvents are the pre-event types.
	PreEvents = eventNames(EventConversationAdd, EventConversationUpdate, EventConversationRemove,
		EventParticipantAdd, EventParticipantUpdate, EventParticipantRemove,
		EventMessageAdd, EventMessageUpdate, EventMessageRemove, EventUserUpdate)
	// ConversationWebhookFilters are the events a conversation-scoped webhook may filter on.
	ConversationWebhookFilters = eventNames(EventConversationUpdated, EventConversationRemoved, EventConversationStateUpdated,
		EventParticipantAdded, EventParticipantUpdated, EventParticipantRemoved,
		EventMessageAdded, EventMessageUpdated, EventMessageRemoved, EventDeliveryUpdated)
)

// eventNames returns the names of event types, as the Filters parameters list them.
func eventNames(ts ...EventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// WebhookConfigParams are the form fields of the account- and service-level webhook
// configuration update; nil means absent. Filters is set (possibly empty) when the request
// carries the Filters parameter at all.
type WebhookConfigParams struct {
	PreWebhookURL  *string
	PostWebhookURL *string
	Method         *string
	Filters        []string
	FiltersGiven   bool
	Target         *string // account level only
}

// ConversationWebhookParams are the form fields of conversation-scoped webhook create and
// update; nil means absent, the lists are set when their parameter is present.
type ConversationWebhookParams struct {
	Target        *string
	URL           *string // Configuration.Url
	Method        *string // Configuration.Method
	Filters       []string
	FiltersGiven  bool
	Triggers      []string
	TriggersGiven bool
	FlowSid       *string // Configuration.FlowSid
	ReplayAfter   *string // Configuration.ReplayAfter
}

// checkWebhookURL validates an absolute http(s) URL of at most max characters: code for a
// malformed one, tooLong for a long one.
func checkWebhookURL(name, v string, max, code, tooLong int) error {
	if n := len([]rune(v)); n > max {
		return invalid(tooLong, "%s is too long: %d characters, the limit is %d", name, n, max)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return invalid(code, "%s must be an absolute http or https URL, not %q", name, v)
	}
	return nil
}

// dedupe returns xs without repeated values, in first-seen order.
func dedupe(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// defaultAccountWebhookConfig is the account-level configuration of an account that never set
// one: nothing configured, POST, target webhook.
func defaultAccountWebhookConfig(accountSid string) *WebhookConfig {
	return &WebhookConfig{AccountSid: accountSid, Method: "POST", Target: TargetWebhook}
}

// getWebhookConfig returns the stored configuration, or nil when there is none.
func getWebhookConfig(ctx context.Context, st Store, accountSid, serviceSid string) (*WebhookConfig, error) {
	c, err := st.GetWebhookConfig(ctx, accountSid, serviceSid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// applyWebhookConfig validates p and writes it onto c. Errors: 50077 (pre URL), 50078 (post
// URL), 50055 (method), 20422 (filters, target).
func applyWebhookConfig(c *WebhookConfig, p WebhookConfigParams, account bool) error {
	if p.PreWebhookURL != nil {
		if *p.PreWebhookURL != "" {
			if err := checkWebhookURL("PreWebhookUrl", *p.PreWebhookURL, MaxWebhookURLLen, 50077, 50077); err != nil {
				return err
			}
		}
		c.PreWebhookURL = *p.PreWebhookURL
	}
	if p.PostWebhookURL != nil {
		if *p.PostWebhookURL != "" {
			if err := checkWebhookURL("PostWebhookUrl", *p.PostWebhookURL, MaxWebhookURLLen, 50078, 50078); err != nil {
				return err
			}
		}
		c.PostWebhookURL = *p.PostWebhookURL
	}
	if p.Method != nil {
		switch m := strings.ToUpper(*p.Method); m {
		case "GET", "POST":
			c.Method = m
		default:
			return invalid(50055, "Invalid webhook method %q: use GET or POST", *p.Method)
		}
	}
	if p.FiltersGiven {
		var fs []string
		for _, f := range p.Filters {
			if f == "" {
				continue
			}
			if !slices.Contains(PostEvents, f) && !slices.Contains(PreEvents, f) {
				return invalid(20422, "Invalid Parameter: Filters value %q is not a Conversations webhook event (%s, %s)", f,
					strings.Join(PreEvents, ", "), strings.Join(PostEvents, ", "))
			}
			fs = append(fs, f)
		}
		c.Filters = dedupe(fs)
	}
	if p.Target != nil {
		if !account {
			return invalid(20422, "Invalid Parameter: Target is a parameter of /v1/Configuration/Webhooks only")
		}
		switch *p.Target {
		case TargetWebhook, TargetFlex:
			c.Target = *p.Target
		default:
			return invalid(20422, "Invalid Parameter: Target must be webhook or flex, not %q", *p.Target)
		}
	}
	return nil
}

// FetchAccountWebhookConfig returns the account-level webhook configuration (never set: no
// URLs, no filters, POST, target webhook).
func (s *Service) FetchAccountWebhookConfig(ctx context.Context, accountSid string) (*WebhookConfig, error) {
	c, err := getWebhookConfig(ctx, s.store, accountSid, "")
	if err != nil || c != nil {
		return c, err
	}
	return defaultAccountWebhookConfig(accountSid), nil
}

// UpdateAccountWebhookConfig changes the account-level webhook configuration; absent fields
// keep their value, an empty URL removes it, an empty Filters list clears the filters.
// Errors: 50077, 50078, 50055, 20422.
func (s *Service) UpdateAccountWebhookConfig(ctx context.Context, accountSid string, p WebhookConfigParams) (*WebhookConfig, error) {
	var out *WebhookConfig
	err := s.store.WithTx(ctx, func(tx Store) error {
		c, err := getWebhookConfig(ctx, tx, accountSid, "")
		if err != nil {
			return err
		}
		if c == nil {
			c = defaultAccountWebhookConfig(accountSid)
		}
		if err := applyWebhookConfig(c, p, true); err != nil {
			return err
		}
		c.DateUpdated = s.clock()
		out = c
		return tx.PutWebhookConfig(ctx, c)
	})
	return out, err
}

// FetchServiceWebhookConfig returns the webhook configuration of the scope's service (never
// set: no URLs, no filters, POST). Errors: 20404.
func (s *Service) FetchServiceWebhookConfig(ctx context.Context, sc Scope) (*WebhookConfig, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	c, err := getWebhookConfig(ctx, s.store, svc.AccountSid, svc.Sid)
	if err != nil || c != nil {
		return c, err
	}
	return &WebhookConfig{AccountSid: svc.AccountSid, ServiceSid: svc.Sid, Method: "POST"}, nil
}

// UpdateServiceWebhookConfig changes the webhook configuration of the scope's service, like
// UpdateAccountWebhookConfig. Errors: 20404, 50077, 50078, 50055, 20422.
func (s *Service) UpdateServiceWebhookConfig(ctx context.Context, sc Scope, p WebhookConfigParams) (*WebhookConfig, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *WebhookConfig
	err = s.store.WithTx(ctx, func(tx Store) error {
		c, err := getWebhookConfig(ctx, tx, svc.AccountSid, svc.Sid)
		if err != nil {
			return err
		}
		if c == nil {
			c = &WebhookConfig{AccountSid: svc.AccountSid, ServiceSid: svc.Sid, Method: "POST"}
		}
		if err := applyWebhookConfig(c, p, false); err != nil {
			return err
		}
		c.DateUpdated = s.clock()
		out = c
		return mapStoreErr(tx.PutWebhookConfig(ctx, c))
	})
	return out, err
}

// ---- conversation-scoped webhooks ----

// applyConversationWebhook validates p and writes it onto w (whose Target is set), then
// checks that w has what its target needs. Errors: 50369 (no URL), 50372 (URL too long),
// 20422 (URL malformed, ReplayAfter), 50055 (method), 50365/50370 (filters),
// 50366/50371/50362 (triggers), 50367 (flow SID).
func applyConversationWebhook(w *ConversationWebhook, p ConversationWebhookParams) error {
	if p.URL != nil {
		if *p.URL != "" {
			if err := checkWebhookURL("Configuration.Url", *p.URL, MaxConversationWebhookURLLen, 20422, 50372); err != nil {
				return err
			}
		}
		w.URL = *p.URL
	}
	if p.Method != nil {
		switch m := strings.ToLower(*p.Method); m {
		case "get", "post":
			w.Method = m
		default:
			return invalid(50055, "Invalid webhook method %q: use GET or POST", *p.Method)
		}
	}
	if p.FiltersGiven {
		var fs []string
		for _, f := range p.Filters {
			if f == "" {
				continue
			}
			if !slices.Contains(ConversationWebhookFilters, f) {
				return invalid(50365, "Invalid conversation webhook filter %q: use %s", f, strings.Join(ConversationWebhookFilters, ", "))
			}
			fs = append(fs, f)
		}
		w.Filters = dedupe(fs)
	}
	if p.TriggersGiven {
		var ts []string
		for _, t := range p.Triggers {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if n := len([]rune(t)); n > MaxWebhookTriggerLen {
				return invalid(50366, "Invalid conversation webhook trigger: %d characters, the limit is %d", n, MaxWebhookTriggerLen)
			}
			ts = append(ts, t)
		}
		ts = dedupe(ts)
		if len(ts) > MaxWebhookTriggers {
			return invalid(50362, "Too many conversation webhook triggers: %d, the limit is %d", len(ts), MaxWebhookTriggers)
		}
		w.Triggers = ts
	}
	if p.FlowSid != nil {
		if *p.FlowSid != "" && !IsSID("FW", *p.FlowSid) {
			return invalid(50367, "Invalid conversation webhook flow SID %q: it must match ^FW[0-9a-fA-F]{32}$", *p.FlowSid)
		}
		w.FlowSid = *p.FlowSid
	}
	if p.ReplayAfter != nil && *p.ReplayAfter != "" {
		n, err := strconv.ParseInt(*p.ReplayAfter, 10, 64)
		if err != nil || n < 0 {
			return invalid(20422, "Invalid Parameter: Configuration.ReplayAfter must be a non-negative message index, not %q", *p.ReplayAfter)
		}
		w.ReplayAfter = &n
	}
	switch w.Target {
	case TargetWebhook:
		if w.URL == "" {
			return invalid(50369, "Conversation webhook URL not provided: Configuration.Url is required for target webhook")
		}
		if len(w.Filters) == 0 {
			return invalid(50370, "Conversation webhook filter not provided: Configuration.Filters is required for target webhook")
		}
	case TargetTrigger:
		if w.URL == "" {
			return invalid(50369, "Conversation webhook URL not provided: Configuration.Url is required for target trigger")
		}
		if len(w.Triggers) == 0 {
			return invalid(50371, "Conversation webhook trigger not provided: Configuration.Triggers is required for target trigger")
		}
	case TargetStudio:
		if w.FlowSid == "" {
			return invalid(50367, "Invalid conversation webhook flow SID: Configuration.FlowSid is required for target studio")
		}
	}
	if w.Method == "" && w.Target != TargetStudio {
		w.Method = "post"
	}
	return nil
}

// getConversationWebhook finds a webhook of c. Errors: 20404.
func getConversationWebhook(ctx context.Context, st Store, c *Conversation, sid string) (*ConversationWebhook, error) {
	if !IsSID(PrefixWebhook, sid) {
		return nil, NotFound()
	}
	w, err := st.GetConversationWebhook(ctx, c.Sid, sid)
	return w, mapStoreErr(err)
}

// CreateConversationWebhook attaches a webhook to a conversation: target webhook (Url,
// Method, Filters), trigger (Url, Method, Triggers) or studio (FlowSid; stored and listed,
// not executed). Errors: 20404, 50368 (no target), 50364 (bad target), 50361 (already 5),
// and those of applyConversationWebhook.
func (s *Service) CreateConversationWebhook(ctx context.Context, sc Scope, convRef string, p ConversationWebhookParams) (*ConversationWebhook, error) {
	if p.Target == nil || *p.Target == "" {
		return nil, invalid(50368, "Conversation webhook type not provided: Target is required (webhook, trigger or studio)")
	}
	switch *p.Target {
	case TargetWebhook, TargetTrigger, TargetStudio:
	default:
		return nil, invalid(50364, "Invalid conversation webhook type %q: use webhook, trigger or studio", *p.Target)
	}
	now := s.clock()
	w := &ConversationWebhook{Sid: s.sids.New(PrefixWebhook), Target: *p.Target, DateCreated: now, DateUpdated: now}
	if err := applyConversationWebhook(w, p); err != nil {
		return nil, err
	}
	err := s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		n, err := tx.CountConversationWebhooks(ctx, c.Sid)
		if err != nil {
			return err
		}
		if n >= MaxConversationWebhooks {
			return invalid(50361, "Too many conversation webhooks: a conversation has at most %d", MaxConversationWebhooks)
		}
		w.AccountSid, w.ServiceSid, w.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
		return tx.CreateConversationWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// FetchConversationWebhook returns a webhook of a conversation. Errors: 20404.
func (s *Service) FetchConversationWebhook(ctx context.Context, sc Scope, convRef, sid string) (*ConversationWebhook, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	return getConversationWebhook(ctx, s.store, c, sid)
}

// ListConversationWebhooks returns one page of a conversation's webhooks in creation order.
// Errors: 20404.
func (s *Service) ListConversationWebhooks(ctx context.Context, sc Scope, convRef string, q PageQuery) ([]*ConversationWebhook, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	return s.store.ListConversationWebhooks(ctx, c.Sid, q)
}

// UpdateConversationWebhook changes a conversation-scoped webhook (its target stays).
// Errors: 20404, and those of applyConversationWebhook.
func (s *Service) UpdateConversationWebhook(ctx context.Context, sc Scope, convRef, sid string, p ConversationWebhookParams) (*ConversationWebhook, error) {
	var out *ConversationWebhook
	err := s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		w, err := getConversationWebhook(ctx, tx, c, sid)
		if err != nil {
			return err
		}
		if err := applyConversationWebhook(w, p); err != nil {
			return err
		}
		w.DateUpdated = s.clock()
		out = w
		return mapStoreErr(tx.UpdateConversationWebhook(ctx, w))
	})
	return out, err
}

// DeleteConversationWebhook removes a webhook from a conversation. Errors: 20404.
func (s *Service) DeleteConversationWebhook(ctx context.Context, sc Scope, convRef, sid string) error {
	return s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		if _, err := getConversationWebhook(ctx, tx, c, sid); err != nil {
			return err
		}
		return mapStoreErr(tx.DeleteConversationWebhook(ctx, c.Sid, sid))
	})
}

// ---- the delivery log ----

// ListWebhookDeliveries returns one page of the account's webhook deliveries in the order
// they were enqueued. Errors: 20422 for an unknown Status filter.
func (s *Service) ListWebhookDeliveries(ctx context.Context, accountSid string, f WebhookDeliveryFilter, q PageQuery) ([]*WebhookDelivery, error) {
	switch f.Status {
	case "", WebhookPending, WebhookDelivered, WebhookFailed:
	default:
		return nil, invalid(20422, "Invalid Parameter: Status must be pending, delivered or failed, not %q", f.Status)
	}
	return s.store.ListWebhookDeliveries(ctx, accountSid, f, q)
}

// FetchWebhookDelivery returns one of the account's webhook deliveries. Errors: 20404.
func (s *Service) FetchWebhookDelivery(ctx context.Context, accountSid, sid string) (*WebhookDelivery, error) {
	if !IsSID(PrefixWebhookDelivery, sid) {
		return nil, NotFound()
	}
	d, err := s.store.GetWebhookDelivery(ctx, accountSid, sid)
	return d, mapStoreErr(err)
}

// ListWebhookAttempts returns one page of the attempts of one of the account's webhook
// deliveries, oldest first. Errors: 20404 for an unknown delivery.
func (s *Service) ListWebhookAttempts(ctx context.Context, accountSid, sid string, q PageQuery) ([]*WebhookAttempt, error) {
	if _, err := s.FetchWebhookDelivery(ctx, accountSid, sid); err != nil {
		return nil, err
	}
	xs, err := s.store.ListWebhookAttempts(ctx, accountSid, sid, q)
	return xs, mapStoreErr(err)
}

// ResendWebhookDelivery enqueues a fresh delivery of finished delivery sid's request: the same
// event, parameters, URL and method, a new SID (so a new I-Twilio-Idempotency-Token: a resend
// is deliberate, the receiver must not drop it as a duplicate), ResentFrom = sid. It goes
// through the outbox like any delivery (signing, retries). Errors: 20404 for an unknown
// delivery, 20409 while sid is still pending.
func (s *Service) ResendWebhookDelivery(ctx context.Context, accountSid, sid string) (*WebhookDelivery, error) {
	if !IsSID(PrefixWebhookDelivery, sid) {
		return nil, NotFound()
	}
	var out *WebhookDelivery
	err := s.store.WithTx(ctx, func(tx Store) error {
		d, err := tx.GetWebhookDelivery(ctx, accountSid, sid)
		if err != nil {
			return mapStoreErr(err)
		}
		if d.Status == WebhookPending {
			return Errorf(KindConflict, 20409, "Conflict: webhook delivery %s is still pending; it can be resent once it is delivered or failed", sid)
		}
		now := s.now().UTC()
		out = &WebhookDelivery{Sid: s.sids.New(PrefixWebhookDelivery), AccountSid: d.AccountSid, ServiceSid: d.ServiceSid,
			ConversationSid: d.ConversationSid, EventType: d.EventType, Scope: d.Scope, WebhookSid: d.WebhookSid, URL: d.URL,
			Method: d.Method, Params: d.Params, Status: WebhookPending, NextAttemptAt: now,
			DateCreated: now.Truncate(time.Second), DateUpdated: now.Truncate(time.Second), ResentFrom: d.Sid}
		return tx.EnqueueWebhookDeliveries(ctx, []*WebhookDelivery{out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
