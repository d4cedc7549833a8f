package conv

import "time"

// Account is a tenant: an Account SID with its Auth Token. Every resource belongs to one.
type Account struct {
	Sid          string
	AuthToken    string
	FriendlyName string
	// DefaultServiceSid is the Conversation Service the shortened /v1/Conversations URLs use.
	DefaultServiceSid string
	DateCreated       time.Time
	DateUpdated       time.Time
}

// APIKey is an SK credential that authenticates as its account.
type APIKey struct {
	Sid          string
	AccountSid   string
	Secret       string
	FriendlyName string
	DateCreated  time.Time
}

// ChatService is a Conversation Service (IS): the container of conversations, roles and users.
type ChatService struct {
	Seq          int64
	Sid          string
	AccountSid   string
	FriendlyName string
	DateCreated  time.Time
	DateUpdated  time.Time
}

// ServiceConfig is a service's configuration: the roles given by default.
type ServiceConfig struct {
	ServiceSid                        string
	DefaultConversationRoleSid        string
	DefaultConversationCreatorRoleSid string
	DefaultChatServiceRoleSid         string
	ReachabilityEnabled               bool
}

// Role types.
const (
	RoleTypeConversation = "conversation"
	RoleTypeService      = "service"
)

// Role is a named set of permissions, scoped to conversations or to the service.
type Role struct {
	Seq          int64
	Sid          string
	AccountSid   string
	ServiceSid   string
	FriendlyName string
	Type         string
	Permissions  []string
	// Builtin marks the roles every service is created with; they cannot be deleted.
	Builtin     bool
	DateCreated time.Time
	DateUpdated time.Time
}

// Conversation states.
const (
	StateInitializing = "initializing"
	StateActive       = "active"
	StateInactive     = "inactive"
	StateClosed       = "closed"
)

// Conversation is a conversation (CH) within a service.
type Conversation struct {
	Seq                 int64
	Sid                 string
	AccountSid          string
	ServiceSid          string
	MessagingServiceSid string // "" when none
	FriendlyName        *string
	UniqueName          *string
	Attributes          string
	State               string
	TimerInactive       string // ISO-8601 duration as given, "" when none
	TimerClosed         string
	DateInactive        *time.Time
	DateClosed          *time.Time
	EmailAddress        string // Bindings.Email.Address
	EmailName           string // Bindings.Email.Name
	DateCreated         time.Time
	DateUpdated         time.Time
}

// Binding types, derived from the address.
const (
	BindingSMS       = "sms"
	BindingWhatsApp  = "whatsapp"
	BindingMessenger = "messenger"
	BindingGBM       = "gbm"
	BindingRCS       = "rcs"
	BindingEmail     = "email"
)

// Binding is how a participant exchanges messages: nil for a chat-only participant.
type Binding struct {
	Type             string
	Address          string
	ProxyAddress     string
	ProjectedAddress string
}

// Participant is a member (MB) of a conversation.
type Participant struct {
	Seq                  int64
	Sid                  string
	AccountSid           string
	ServiceSid           string
	ConversationSid      string
	Identity             *string
	Attributes           string
	Binding              *Binding
	RoleSid              string // "" when none
	LastReadMessageIndex *int64
	LastReadTimestamp    *string
	DateCreated          time.Time
	DateUpdated          time.Time
}

// IsChat reports whether p takes part through the Conversations SDK (it has an identity).
func (p *Participant) IsChat() bool { return p.Identity != nil }

// BindingClaim records that an (address, proxy address) pair is taken by a participant of a
// non-closed conversation. The store keeps it unique per account.
type BindingClaim struct {
	AccountSid      string
	Address         string
	ProxyAddress    string
	ConversationSid string
	ParticipantSid  string
}

// PageQuery selects one page of a list in storage order (Seq).
type PageQuery struct {
	Size int
	// AfterSeq, when > 0, returns rows with Seq > AfterSeq (ascending).
	AfterSeq int64
	// BeforeSeq, when > 0, returns the last Size rows with Seq < BeforeSeq (still ascending).
	BeforeSeq int64
	// Offset skips rows when neither cursor is set.
	Offset int
}

// ConversationFilter narrows a conversation list.
type ConversationFilter struct {
	State     string
	StartDate *time.Time // date_created >= StartDate
	EndDate   *time.Time // date_created < EndDate
}

// ParticipantCounts is the number of chat and non-chat participants of a conversation, and
// of those with a projected address (which make it a Group MMS conversation).
type ParticipantCounts struct {
	Chat      int
	NonChat   int
	Projected int
}
