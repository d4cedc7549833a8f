package conv

import (
	"context"
	"time"
)

// SID prefixes of webhook resources. WD (a delivery in Parley's outbox) is Parley's own:
// Twilio has no delivery resource.
const (
	PrefixWebhook         = "WH"
	PrefixWebhookDelivery = "WD"
)

// Webhook targets: "webhook" and "flex" for the account-level configuration; "webhook",
// "trigger" and "studio" for conversation-scoped webhooks.
const (
	TargetWebhook = "webhook"
	TargetFlex    = "flex"
	TargetTrigger = "trigger"
	TargetStudio  = "studio"
)

// WebhookConfig is the account-level (ServiceSid "") or service-level webhook configuration:
// where pre- and post-event webhooks go and which events fire them.
type WebhookConfig struct {
	AccountSid     string
	ServiceSid     string // "" for the account-level configuration
	PreWebhookURL  string // "" when none
	PostWebhookURL string // "" when none
	Method         string // "GET" or "POST"; "" when never set (service level)
	// Filters are the event types that fire; nil when never set (the wire shows null).
	Filters     []string
	Target      string // account level: "webhook" or "flex"; "" at service level
	DateUpdated time.Time
}

// ConversationWebhook is a conversation-scoped webhook (WH): a post-event target attached
// to one conversation.
type ConversationWebhook struct {
	Seq             int64
	Sid             string
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	Target          string // webhook, trigger or studio
	URL             string // webhook and trigger
	Method          string // "get" or "post" (webhook and trigger)
	Filters         []string
	Triggers        []string // trigger keywords
	FlowSid         string   // studio
	ReplayAfter     *int64
	DateCreated     time.Time
	DateUpdated     time.Time
}

// Webhook delivery scopes: which configuration a delivery comes from.
const (
	WebhookScopeAccount      = "account"
	WebhookScopeService      = "service"
	WebhookScopeConversation = "conversation"
)

// Webhook delivery states.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed"
)

// WebhookDelivery is one post-event webhook request in Parley's durable outbox: written in
// the transaction of the change that caused it, then sent (and retried) by the dispatcher.
type WebhookDelivery struct {
	Seq             int64
	Sid             string // WD…
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	EventType       string
	Scope           string // account, service or conversation
	WebhookSid      string // the conversation-scoped webhook, "" otherwise
	URL             string
	Method          string // "GET" or "POST"
	// Params are the form parameters, application/x-www-form-urlencoded, without RetryCount
	// (added per attempt).
	Params         string
	Status         string // pending, delivered or failed
	Attempts       int    // attempts started so far
	LastStatusCode int    // HTTP status of the last answer, 0 when there was none
	LastError      string
	// NextAttemptAt is when a pending delivery is due (millisecond precision); while an
	// attempt is in flight it is the end of that attempt's lease.
	NextAttemptAt time.Time
	// LeaseOwner names the dispatcher whose attempt is in flight ("" when none).
	LeaseOwner    string
	DateCreated   time.Time
	DateUpdated   time.Time
	DateDelivered *time.Time
	// ResentFrom is the delivery this one resends ("" for a delivery of a change).
	ResentFrom string
}

// WebhookAttempt is one settled attempt of a webhook delivery, as the delivery log keeps it:
// the request as sent and what came back. It never holds the auth token.
type WebhookAttempt struct {
	Seq         int64
	DeliverySid string
	AccountSid  string
	Attempt     int       // 1 for the first attempt
	Date        time.Time // when the attempt started (Parley's clock, millisecond precision)
	// The request: URL (with the query for GET), method, the headers sent (the signature
	// included) and the form body ("" for GET).
	RequestURL     string
	RequestMethod  string
	RequestHeaders map[string]string
	RequestBody    string
	ResponseStatus int    // 0 when no answer came
	ResponseBody   string // the first MaxWebhookAttemptBody bytes of the answer
	Error          string // timeout, connection failure, non-2xx
	Duration       time.Duration
}

// MaxWebhookAttemptBody bounds the answer excerpt a WebhookAttempt keeps.
const MaxWebhookAttemptBody = 4 << 10

// WebhookDeliveryFilter narrows a delivery list; empty fields match everything.
type WebhookDeliveryFilter struct {
	Status          string
	EventType       string
	ConversationSid string
}

// WebhookStore persists webhook configuration and the delivery outbox.
type WebhookStore interface {
	// GetWebhookConfig returns the account-level (serviceSid "") or service-level
	// configuration; ErrNotFound when it was never set.
	GetWebhookConfig(ctx context.Context, accountSid, serviceSid string) (*WebhookConfig, error)
	// PutWebhookConfig creates or replaces a configuration.
	PutWebhookConfig(ctx context.Context, c *WebhookConfig) error

	// CreateConversationWebhook inserts w and sets w.Seq.
	CreateConversationWebhook(ctx context.Context, w *ConversationWebhook) error
	GetConversationWebhook(ctx context.Context, conversationSid, sid string) (*ConversationWebhook, error)
	ListConversationWebhooks(ctx context.Context, conversationSid string, q PageQuery) ([]*ConversationWebhook, error)
	CountConversationWebhooks(ctx context.Context, conversationSid string) (int, error)
	// UpdateConversationWebhook writes every mutable field of w.
	UpdateConversationWebhook(ctx context.Context, w *ConversationWebhook) error
	DeleteConversationWebhook(ctx context.Context, conversationSid, sid string) error

	// EnqueueWebhookDeliveries inserts pending deliveries (call it inside WithTx, in the
	// transaction of the change, so that a committed change always has its deliveries).
	EnqueueWebhookDeliveries(ctx context.Context, ds []*WebhookDelivery) error
	// NextWebhookDeliveryDue returns the earliest NextAttemptAt of a pending delivery, and
	// false when there is none.
	NextWebhookDeliveryDue(ctx context.Context) (time.Time, bool, error)
	// ClaimWebhookDeliveries must run inside WithTx: it leases up to limit pending
	// deliveries due at now to owner (oldest first, skipping rows another transaction holds),
	// counting an attempt on each and moving its NextAttemptAt to leaseUntil, so that no other
	// dispatcher takes it while it is in flight. It returns them as updated.
	ClaimWebhookDeliveries(ctx context.Context, owner string, now time.Time, limit int, leaseUntil time.Time) ([]*WebhookDelivery, error)
	// SettleWebhookDelivery writes the outcome fields of d (status, last status code and
	// error, next attempt, date updated and delivered) and ends the lease, provided d is
	// still pending and leased to owner. ErrNotFound: the lease was lost or d is gone.
	SettleWebhookDelivery(ctx context.Context, d *WebhookDelivery, owner string) error
	// AddWebhookAttempt inserts a settled attempt of a delivery and sets a.Seq.
	AddWebhookAttempt(ctx context.Context, a *WebhookAttempt) error
	// ListWebhookAttempts returns one page of the attempts of the account's delivery, in
	// the order they were made.
	ListWebhookAttempts(ctx context.Context, accountSid, deliverySid string, q PageQuery) ([]*WebhookAttempt, error)
	GetWebhookDelivery(ctx context.Context, accountSid, sid string) (*WebhookDelivery, error)
	ListWebhookDeliveries(ctx context.Context, accountSid string, f WebhookDeliveryFilter, q PageQuery) ([]*WebhookDelivery, error)
	// PruneWebhookDeliveries deletes delivered and failed deliveries last updated before
	// before (with their attempts), and returns how many deliveries it deleted.
	PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error)
}
