package conv

import "context"

// Store persists Parley's resources. Implementations only persist: every rule lives in Service.
// Getters return ErrNotFound when no row matches; writes that break a uniqueness constraint
// return ErrConflict. Both may be wrapped.
type Store interface {
	// WithTx runs fn in one write transaction; fn's Store sees and writes through it. The
	// transaction commits when fn returns nil and is durable when WithTx returns nil.
	//
	// fn may run more than once: SQLite's group commit runs it again when the batch it ran in
	// is aborted (it shares one transaction with other callers' functions), and PostgreSQL
	// retries a transaction after a serialization failure or a deadlock. So fn must be free of side effects outside tx: it
	// reads and writes through tx only, (re)sets the variables it hands out on every run, and
	// leaves calls, publishing events and everything else irreversible until WithTx returned
	// nil.
	WithTx(ctx context.Context, fn func(tx Store) error) error

	AccountStore
	ServiceStore
	RoleStore
	ConversationStore
	ParticipantStore
	MessageStore
	MediaStore // media.go
	PushStore  // push.go
	DeliveryStore
	ConfigurationStore
	WebhookStore
	UserStore
	ControlStore // snapshot.go
}

// AccountStore persists accounts and API keys.
type AccountStore interface {
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, sid string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	// SetAccountDefaultService sets the account's default Conversation Service.
	SetAccountDefaultService(ctx context.Context, accountSid, serviceSid string) error
	// UpdateAccountToken replaces an account's auth token.
	UpdateAccountToken(ctx context.Context, accountSid, token string) error
	// PutAPIKey creates or replaces an API key.
	PutAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKey(ctx context.Context, sid string) (*APIKey, error)
}

// ServiceStore persists Conversation Services and their configuration.
type ServiceStore interface {
	CreateService(ctx context.Context, s *ChatService) error
	GetService(ctx context.Context, accountSid, sid string) (*ChatService, error)
	ListServices(ctx context.Context, accountSid string, q PageQuery) ([]*ChatService, error)
	// DeleteService deletes the service and everything in it.
	DeleteService(ctx context.Context, accountSid, sid string) error
	PutServiceConfig(ctx context.Context, c *ServiceConfig) error
	GetServiceConfig(ctx context.Context, serviceSid string) (*ServiceConfig, error)
}

// RoleStore persists roles.
type RoleStore interface {
	CreateRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, serviceSid, sid string) (*Role, error)
	ListRoles(ctx context.Context, serviceSid string, q PageQuery) ([]*Role, error)
	UpdateRole(ctx context.Context, r *Role) error
	DeleteRole(ctx context.Context, serviceSid, sid string) error
}

// ConversationStore persists conversations.
type ConversationStore interface {
	// CreateConversation inserts c and sets c.Seq. ErrConflict: unique name taken in the service.
	CreateConversation(ctx context.Context, c *Conversation) error
	GetConversation(ctx context.Context, serviceSid, sid string) (*Conversation, error)
	GetConversationByUniqueName(ctx context.Context, serviceSid, uniqueName string) (*Conversation, error)
	ListConversations(ctx context.Context, serviceSid string, f ConversationFilter, q PageQuery) ([]*Conversation, error)
	// UpdateConversation writes every mutable field of c. ErrConflict: unique name taken.
	UpdateConversation(ctx context.Context, c *Conversation) error
	// DeleteConversation deletes the conversation with its participants and binding claims.
	DeleteConversation(ctx context.Context, serviceSid, sid string) error
	// LockConversation takes a write lock on the conversation row for the rest of the
	// transaction (a no-op on engines whose write transactions are already serial).
	LockConversation(ctx context.Context, sid string) error
}

// ParticipantStore persists participants and binding claims.
type ParticipantStore interface {
	// CreateParticipant inserts p and sets p.Seq. ErrConflict: identity already in the conversation.
	CreateParticipant(ctx context.Context, p *Participant) error
	GetParticipant(ctx context.Context, conversationSid, sid string) (*Participant, error)
	GetParticipantByIdentity(ctx context.Context, conversationSid, identity string) (*Participant, error)
	// FindParticipantByAddress returns the participant of the conversation with that binding
	// address and proxy address (proxy "" matches a participant without one).
	FindParticipantByAddress(ctx context.Context, conversationSid, address, proxy string) (*Participant, error)
	ListParticipants(ctx context.Context, conversationSid string, q PageQuery) ([]*Participant, error)
	CountParticipants(ctx context.Context, conversationSid string) (ParticipantCounts, error)
	// UpdateParticipant writes every mutable field of p. ErrConflict: identity taken.
	UpdateParticipant(ctx context.Context, p *Participant) error
	// DeleteParticipant deletes the participant and its binding claim.
	DeleteParticipant(ctx context.Context, conversationSid, sid string) error

	// ClaimBinding records c. ErrConflict: the pair is already claimed in the account.
	ClaimBinding(ctx context.Context, c *BindingClaim) error
	GetBindingClaim(ctx context.Context, accountSid, address, proxy string) (*BindingClaim, error)
	// ReleaseParticipantClaims deletes the claims held by a participant.
	ReleaseParticipantClaims(ctx context.Context, participantSid string) error
	// ReleaseConversationClaims deletes the claims held by a conversation's participants.
	ReleaseConversationClaims(ctx context.Context, conversationSid string) error
}
