package conv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// EventSink receives the post-event of every committed change (onParticipantAdded, ...).
// The webhook engine implements it; WebhookEnabled carries the X-Twilio-Webhook-Enabled intent.
type EventSink interface {
	Publish(ctx context.Context, e Event)
}

// Event is a committed change.
type Event struct {
	Type            string // onParticipantAdded, onParticipantUpdated, onParticipantRemoved, onConversationAdded, ...
	Source          string // "API"
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	// WebhookEnabled is true when the REST request carried X-Twilio-Webhook-Enabled: true.
	WebhookEnabled bool
	Conversation   *Conversation
	Participant    *Participant
	// Message is the message of onMessageAdded, onMessageUpdated and onMessageRemoved.
	Message *Message
	// User is the user of onUserAdded and onUserUpdated.
	User *User
	Time time.Time
	// ClientIdentity is the identity of the SDK user who acted (Source SDK only).
	ClientIdentity string
	// StateFrom is the previous state of onConversationStateUpdated ("" when unknown).
	StateFrom string
}

// NopEvents discards events.
type NopEvents struct{}

// Publish does nothing.
func (NopEvents) Publish(context.Context, Event) {}

// Options configure a Service; zero values get production defaults.
type Options struct {
	Clock  func() time.Time
	SIDs   SIDGen
	Events EventSink
	// PreHook calls pre-event webhooks for SDK actions (nil: none are called).
	PreHook PreHook
	// LookupCacheTTL is how long verified credentials and resolved services are reused
	// without reading the store (0: DefaultLookupCacheTTL; negative: never).
	LookupCacheTTL time.Duration
}

// Service enforces every business rule of Parley over a Store.
type Service struct {
	store   Store
	now     func() time.Time
	sids    SIDGen
	events  EventSink
	preHook PreHook
	cache   *lookupCache
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, now: opts.Clock, sids: opts.SIDs, events: opts.Events, preHook: opts.PreHook}
	if s.now == nil {
		s.now = time.Now
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

// ---- accounts -------------------------------------------------------------------------

func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("conv: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// EnsureAccount makes sure the account sid exists with the given auth token (creating it, or
// replacing its token) and has a default service. It returns the account.
// Errors: 20422 when sid is not an AC SID or token is empty.
func (s *Service) EnsureAccount(ctx context.Context, sid, token string) (*Account, error) {
	if !IsSID(PrefixAccount, sid) {
		return nil, invalid(20422, "Account SID %q does not match ^AC[0-9a-fA-F]{32}$", sid)
	}
	if token == "" {
		return nil, invalid(20422, "Auth token for %s is empty", sid)
	}
	var out *Account
	ensure := func(tx Store) error {
		a, err := tx.GetAccount(ctx, sid)
		switch {
		case errors.Is(err, ErrNotFound):
			now := s.clock()
			a = &Account{Sid: sid, AuthToken: token, FriendlyName: "Parley account", DateCreated: now, DateUpdated: now}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
		case err != nil:
			return err
		case a.AuthToken != token:
			if err := tx.UpdateAccountToken(ctx, sid, token); err != nil {
				return err
			}
			a.AuthToken = token
		}
		if _, err := s.defaultServiceTx(ctx, tx, a); err != nil {
			return err
		}
		out = a
		return nil
	}
	// Replicas starting together race to create the account: the losers' insert conflicts
	// once the winner commits, and running again finds the winner's account.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.store.WithTx(ctx, ensure); !errors.Is(err, ErrConflict) {
			break
		}
	}
	return out, err
}

// EnsureDevAccount returns the first stored account, creating a development account with a
// random SID and token when the store has none, so that a restart keeps the same credentials.
func (s *Service) EnsureDevAccount(ctx context.Context) (*Account, error) {
	accts, err := s.store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accts) > 0 {
		return accts[0], nil
	}
	return s.EnsureAccount(ctx, s.sids.New(PrefixAccount), randomToken())
}

// PutAPIKey stores an API key (SK sid and secret) for an existing account.
// Errors: 20422 for a malformed SID or empty secret, 20404 when the account does not exist.
func (s *Service) PutAPIKey(ctx context.Context, accountSid, keySid, secret string) error {
	if !IsSID(PrefixAPIKey, keySid) || secret == "" {
		return invalid(20422, "API key %q must match ^SK[0-9a-fA-F]{32}$ and have a secret", keySid)
	}
	if _, err := s.store.GetAccount(ctx, accountSid); err != nil {
		return mapStoreErr(err)
	}
	return s.store.WithTx(ctx, func(tx Store) error {
		return tx.PutAPIKey(ctx, &APIKey{Sid: keySid, AccountSid: accountSid, Secret: secret, FriendlyName: "Parley API key", DateCreated: s.clock()})
	})
}

// Authenticate checks HTTP Basic credentials: an Account SID with its auth token, or an API
// key SID with its secret. It returns the account, or a 401 error (20003) on any mismatch.
// Verified credentials are reused for up to Options.LookupCacheTTL (the token is still
// compared on every request).
func (s *Service) Authenticate(ctx context.Context, user, pass string) (*Account, error) {
	if a, ok := s.cache.verify(user, pass); ok {
		return a, nil
	}
	gen := s.cache.generation()
	fail := &Error{Kind: KindUnauthorized, Code: 20003, Message: "Authentication Error - invalid username"}
	switch {
	case IsSID(PrefixAccount, user):
		a, err := s.store.GetAccount(ctx, user)
		if errors.Is(err, ErrNotFound) {
			return nil, fail
		} else if err != nil {
			return nil, err
		}
		if a.AuthToken == "" || !constantTimeEqual(a.AuthToken, pass) { // "": retired (credentials.go)
			fail.Message = "Authentication Error - invalid password"
			return nil, fail
		}
		s.cache.putCred(gen, user, a.AuthToken, a)
		return a, nil
	case IsSID(PrefixAPIKey, user):
		k, err := s.store.GetAPIKey(ctx, user)
		if errors.Is(err, ErrNotFound) {
			return nil, fail
		} else if err != nil {
			return nil, err
		}
		if !constantTimeEqual(k.Secret, pass) {
			fail.Message = "Authentication Error - invalid password"
			return nil, fail
		}
		a, err := s.store.GetAccount(ctx, k.AccountSid)
		if err != nil || a.AuthToken == "" {
			return nil, fail
		}
		s.cache.putCred(gen, user, k.Secret, a)
		return a, nil
	}
	return nil, fail
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// ---- services ---------------------------------------------------------------------------

// defaultServiceTx returns the account's default service, creating it (with its roles and
// configuration) when the account has none or it was deleted.
func (s *Service) defaultServiceTx(ctx context.Context, tx Store, a *Account) (*ChatService, error) {
	if a.DefaultServiceSid != "" {
		svc, err := tx.GetService(ctx, a.Sid, a.DefaultServiceSid)
		if err == nil {
			return svc, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	svc, err := s.createServiceTx(ctx, tx, a.Sid, "Default Conversations Service")
	if err != nil {
		return nil, err
	}
	if err := tx.SetAccountDefaultService(ctx, a.Sid, svc.Sid); err != nil {
		return nil, err
	}
	a.DefaultServiceSid = svc.Sid
	return svc, nil
}

// Permissions Twilio defines for each role type.
var (
	ServicePermissions = []string{"addParticipant", "createConversation", "deleteAnyMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"joinConversation", "removeParticipant"}
	ConversationPermissions = []string{"addParticipant", "deleteAnyMessage", "deleteOwnMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"leaveConversation", "removeParticipant", "sendMediaMessage", "sendMessage"}
)

// defaultRoles are the roles every new service gets (Programmable Chat heritage names).
var defaultRoles = []struct {
	name, typ string
	perms     []string
}{
	{"channel admin", RoleTypeConversation, ConversationPermissions},
	{"channel user", RoleTypeConversation, []string{"sendMessage", "sendMediaMessage", "leaveConversation",
		"editOwnMessage", "editOwnMessageAttributes", "deleteOwnMessage", "editOwnUserInfo"}},
	{"service admin", RoleTypeService, ServicePermissions},
	{"service user", RoleTypeService, []string{"createConversation", "joinConversation", "editOwnUserInfo"}},
}

func (s *Service) createServiceTx(ctx context.Context, tx Store, accountSid, name string) (*ChatService, error) {
	now := s.clock()
	svc := &ChatService{Sid: s.sids.New(PrefixService), AccountSid: accountSid, FriendlyName: name, DateCreated: now, DateUpdated: now}
	if err := tx.CreateService(ctx, svc); err != nil {
		return nil, err
	}
	sids := make([]string, len(defaultRoles))
	for i, d := range defaultRoles {
		r := &Role{Sid: s.sids.New(PrefixRole), AccountSid: accountSid, ServiceSid: svc.Sid, FriendlyName: d.name,
			Type: d.typ, Permissions: append([]string(nil), d.perms...), Builtin: true, DateCreated: now, DateUpdated: now}
		if err := tx.CreateRole(ctx, r); err != nil {
			return nil, err
		}
		sids[i] = r.Sid
	}
	cfg := &ServiceConfig{ServiceSid: svc.Sid, DefaultConversationCreatorRoleSid: sids[0],
		DefaultConversationRoleSid: sids[1], DefaultChatServiceRoleSid: sids[3]}
	if err := tx.PutServiceConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return svc, nil
}

// CreateService creates a Conversation Service with Twilio's default roles and configuration.
// Errors: 20001 when friendlyName is missing, 50003 when it is over 256 characters.
func (s *Service) CreateService(ctx context.Context, accountSid string, friendlyName *string) (*ChatService, error) {
	if friendlyName == nil || *friendlyName == "" {
		return nil, invalid(20001, "Missing required parameter FriendlyName in the post body")
	}
	if err := checkLen("FriendlyName", *friendlyName, MaxFriendlyNameLen, 50003); err != nil {
		return nil, err
	}
	var out *ChatService
	err := s.store.WithTx(ctx, func(tx Store) error {
		svc, err := s.createServiceTx(ctx, tx, accountSid, *friendlyName)
		out = svc
		return err
	})
	return out, err
}

// ResolveService returns the service a scope names: its ServiceSid, or the account's default
// service (created on first use). Errors: 20404 when the service is not the account's. The
// answer is reused for up to Options.LookupCacheTTL.
func (s *Service) ResolveService(ctx context.Context, sc Scope) (*ChatService, error) {
	if svc, ok := s.cache.service(sc); ok {
		return svc, nil
	}
	gen := s.cache.generation()
	svc, err := s.resolveService(ctx, sc)
	if err == nil {
		s.cache.putService(gen, sc, svc)
	}
	return svc, err
}

func (s *Service) resolveService(ctx context.Context, sc Scope) (*ChatService, error) {
	if sc.ServiceSid != "" {
		if !IsSID(PrefixService, sc.ServiceSid) {
			return nil, NotFound()
		}
		svc, err := s.store.GetService(ctx, sc.AccountSid, sc.ServiceSid)
		return svc, mapStoreErr(err)
	}
	a, err := s.store.GetAccount(ctx, sc.AccountSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if a.DefaultServiceSid != "" {
		svc, err := s.store.GetService(ctx, a.Sid, a.DefaultServiceSid)
		if err == nil {
			return svc, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	var out *ChatService
	err = s.store.WithTx(ctx, func(tx Store) error {
		a, err := tx.GetAccount(ctx, sc.AccountSid)
		if err != nil {
			return mapStoreErr(err)
		}
		out, err = s.defaultServiceTx(ctx, tx, a)
		return err
	})
	return out, err
}

// FetchService returns one of the account's services. Errors: 20404.
func (s *Service) FetchService(ctx context.Context, accountSid, sid string) (*ChatService, error) {
	return s.ResolveService(ctx, Scope{AccountSid: accountSid, ServiceSid: sid})
}

// ListServices returns one page of the account's services.
func (s *Service) ListServices(ctx context.Context, accountSid string, q PageQuery) ([]*ChatService, error) {
	return s.store.ListServices(ctx, accountSid, q)
}

// DeleteService deletes a service with everything in it. Deleting the default service is
// allowed; a new default is created on next use. Errors: 20404.
func (s *Service) DeleteService(ctx context.Context, accountSid, sid string) error {
	if !IsSID(PrefixService, sid) {
		return NotFound()
	}
	return mapStoreErr(s.store.WithTx(ctx, func(tx Store) error {
		return tx.DeleteService(ctx, accountSid, sid)
	}))
}

// ServiceConfig returns the configuration of the scope's service. Errors: 20404.
func (s *Service) ServiceConfig(ctx context.Context, sc Scope) (*ServiceConfig, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	cfg, err := s.store.GetServiceConfig(ctx, svc.Sid)
	return cfg, mapStoreErr(err)
}

// FetchRole returns a role of the scope's service. Errors: 20404.
func (s *Service) FetchRole(ctx context.Context, sc Scope, sid string) (*Role, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if !IsSID(PrefixRole, sid) {
		return nil, NotFound()
	}
	r, err := s.store.GetRole(ctx, svc.Sid, sid)
	return r, mapStoreErr(err)
}

// ListRoles returns one page of the scope's service roles.
func (s *Service) ListRoles(ctx context.Context, sc Scope, q PageQuery) ([]*Role, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	return s.store.ListRoles(ctx, svc.Sid, q)
}

func checkLen(name, v string, max, code int) error {
	if n := len([]rune(v)); n > max {
		return invalid(code, "%s too long: %d characters, the limit is %d", name, n, max)
	}
	return nil
}
