package conv

import (
	"errors"
	"time"
)

// Options configure a Service; zero values get production defaults.
type Options struct {
	Clock  func() time.Time
	SIDs   SIDGen
	Events EventSink
	// WebhookFormat renders the requests of post-event webhooks (package webhook's Format).
	// Without one no post-event webhook deliveries are written.
	WebhookFormat WebhookFormat
	// PreHook calls pre-event webhooks for SDK actions (nil: none are called).
	PreHook PreHook
	// Changes records every change's events inside its transaction (nil: none).
	Changes ChangeRecorder
	// LookupCacheTTL is how long verified credentials and resolved services are reused
	// without reading the store (0: DefaultLookupCacheTTL; negative: never).
	LookupCacheTTL time.Duration
	// ControlClock, when set, is the control plane's clock (clock.go) the service reads time
	// from (its base replaces Clock); otherwise one is made over Clock.
	ControlClock *Clock
	// MaxMediaBytes limits the size of one uploaded media item (0: DefaultMaxMediaBytes).
	MaxMediaBytes int64
}

// Service enforces every business rule of Parley over a Store.
type Service struct {
	store   Store
	now     func() time.Time
	sids    SIDGen
	events  EventSink
	format  WebhookFormat
	preHook PreHook
	cache   *lookupCache
	changes ChangeRecorder
	clk     *Clock // the control plane's clock (clock.go); now is clk.Now
	// maxMedia is the size limit of one media item (media.go).
	maxMedia int64
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, sids: opts.SIDs, events: opts.Events, format: opts.WebhookFormat, preHook: opts.PreHook, changes: opts.Changes}
	s.clk = opts.ControlClock // control plane: Clock plus the offset of POST /parley/v1/Clock
	if s.clk == nil {
		s.clk = NewClock(opts.Clock)
	}
	s.now = s.clk.Now
	s.maxMedia = opts.MaxMediaBytes
	if s.maxMedia <= 0 {
		s.maxMedia = DefaultMaxMediaBytes
	}
	if s.sids == nil {
		s.sids = RandomSIDs{}
	}
	if s.events == nil {
		s.events = NopEvents{}
	}
	ttl := opts.LookupCacheTTL
	if ttl == 0 {
		ttl = DefaultLookupCacheTTL
	}
	s.cache = newLookupCache(ttl, s.now)
	s.store = &cacheStore{Store: store, c: s.cache}
	return s
}

// Scope names the account making a request and, for /v1/Services/{IS}/... URLs, the service.
// ServiceSid "" means the account's default service.
type Scope struct {
	AccountSid string
	ServiceSid string
}

// WriteOptions carry per-request flags of a mutating call.
type WriteOptions struct {
	// WebhookEnabled is the X-Twilio-Webhook-Enabled: true header.
	WebhookEnabled bool
	// Source is who acts: SourceAPI (REST, the default when "") or SourceSDK (a client SDK
	// user, ClientIdentity). SDK actions consult pre-event webhooks and always fire
	// post-event webhooks; REST actions fire post-event webhooks only with WebhookEnabled.
	Source         string
	ClientIdentity string
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// mapStoreErr turns ErrNotFound into Twilio's 20404 and passes other errors through.
func mapStoreErr(err error) error {
	if errors.Is(err, ErrNotFound) {
		return NotFound()
	}
	return err
}

// checkLen refuses a value over max characters with code.
func checkLen(name, v string, max, code int) error {
	if n := len([]rune(v)); n > max {
		return invalid(code, "%s too long: %d characters, the limit is %d", name, n, max)
	}
	return nil
}
