package conv

import (
	"context"
	"time"
)

// SID prefixes of the configuration resources.
const (
	PrefixAddressConfig = "IG"
	PrefixCredential    = "CR"
	PrefixPushBinding   = "BS"
)

// AccountConfig is an account's /v1/Configuration beyond its default Conversation Service
// (which Account.DefaultServiceSid holds). "" means not set.
type AccountConfig struct {
	AccountSid                 string
	DefaultMessagingServiceSid string
	DefaultInactiveTimer       string // ISO-8601 duration
	DefaultClosedTimer         string // ISO-8601 duration
}

// NotificationSetting is one push notification kind of a service: whether it is on, its
// template and its sound (nil when unset).
type NotificationSetting struct {
	Enabled  bool
	Template *string
	Sound    *string
}

// ServiceNotifications is a service's push notification configuration. Parley stores it and
// returns it; it sends no push notifications.
type ServiceNotifications struct {
	ServiceSid              string
	LogEnabled              bool
	NewMessage              NotificationSetting
	NewMessageBadgeCount    bool
	NewMessageWithMedia     NotificationSetting // Sound is unused
	AddedToConversation     NotificationSetting
	RemovedFromConversation NotificationSetting
}

// Address configuration types (configuration_address_enum_type).
var AddressTypes = []string{"sms", "whatsapp", "messenger", "gbm", "email", "rcs", "apple", "chat"}

// Auto-creation types (configuration_address_enum_auto_creation_type).
const (
	AutoCreationWebhook = "webhook"
	AutoCreationStudio  = "studio"
	AutoCreationDefault = "default"
)

// AutoCreation is what happens when a message arrives at a configured address that belongs
// to no conversation: with Enabled, a conversation is created in ServiceSid (or the default
// service) and, by Type, a conversation-scoped webhook or Studio flow is attached.
type AutoCreation struct {
	Enabled          bool
	Type             string // AutoCreationWebhook, AutoCreationStudio, AutoCreationDefault
	ServiceSid       string // "" means the account's default service
	WebhookURL       string
	WebhookMethod    string // GET or POST, "" when unset
	WebhookFilters   []string
	StudioFlowSid    string
	StudioRetryCount *int64
}

// AddressConfig is an Address Configuration (IG): settings for one address of the account.
type AddressConfig struct {
	Seq            int64
	Sid            string
	AccountSid     string
	Type           string // lower case, one of AddressTypes
	Address        string
	FriendlyName   *string
	AddressCountry *string
	AutoCreation   AutoCreation
	DateCreated    time.Time
	DateUpdated    time.Time
}

// Push credential types (credential_enum_push_type).
const (
	CredentialAPN = "apn"
	CredentialGCM = "gcm"
	CredentialFCM = "fcm"
)

// Credential is a push notification credential (CR). Its secrets are stored and never
// returned by the API.
type Credential struct {
	Seq          int64
	Sid          string
	AccountSid   string
	FriendlyName *string
	Type         string
	Sandbox      bool
	Certificate  string // APN
	PrivateKey   string // APN
	APIKey       string // GCM
	Secret       string // FCM
	DateCreated  time.Time
	DateUpdated  time.Time
}

// Push binding types (service_binding_enum_binding_type).
var PushBindingTypes = []string{"apn", "gcm", "fcm", "twilsock"}

// PushBinding is a push notification registration (BS) a client SDK made for a user's device.
type PushBinding struct {
	Seq           int64
	Sid           string
	AccountSid    string
	ServiceSid    string
	CredentialSid string // "" when none
	Endpoint      string
	Identity      string
	BindingType   string
	MessageTypes  []string
	DateCreated   time.Time
	DateUpdated   time.Time
	// Address is the device token pushes go to (not shown by the Binding resource).
	Address string
}

// PushBindingFilter narrows a push binding list: any of the types, any of the identities
// (empty means no restriction).
type PushBindingFilter struct {
	BindingTypes []string
	Identities   []string
}

// ConfigurationStore persists account and service configuration, address configurations,
// push credentials and bindings, and answers the role and timer questions those rules need.
type ConfigurationStore interface {
	// GetAccountConfig returns the account's configuration. ErrNotFound: never set.
	GetAccountConfig(ctx context.Context, accountSid string) (*AccountConfig, error)
	// PutAccountConfig creates or replaces the account's configuration.
	PutAccountConfig(ctx context.Context, c *AccountConfig) error

	// GetServiceNotifications returns the service's notification settings. ErrNotFound:
	// never set.
	GetServiceNotifications(ctx context.Context, serviceSid string) (*ServiceNotifications, error)
	// PutServiceNotifications creates or replaces the service's notification settings.
	PutServiceNotifications(ctx context.Context, n *ServiceNotifications) error

	// CreateAddressConfig inserts a and sets a.Seq. ErrConflict: the account already has a
	// configuration for that type and address.
	CreateAddressConfig(ctx context.Context, a *AddressConfig) error
	GetAddressConfig(ctx context.Context, accountSid, sid string) (*AddressConfig, error)
	// FindAddressConfig returns the account's configuration of address (any type, the
	// oldest first). ErrNotFound: none.
	FindAddressConfig(ctx context.Context, accountSid, address string) (*AddressConfig, error)
	// ListAddressConfigs returns one page of the account's configurations, of type typ
	// unless typ is "".
	ListAddressConfigs(ctx context.Context, accountSid, typ string, q PageQuery) ([]*AddressConfig, error)
	// UpdateAddressConfig writes every mutable field of a.
	UpdateAddressConfig(ctx context.Context, a *AddressConfig) error
	DeleteAddressConfig(ctx context.Context, accountSid, sid string) error

	// CreateCredential inserts c and sets c.Seq.
	CreateCredential(ctx context.Context, c *Credential) error
	GetCredential(ctx context.Context, accountSid, sid string) (*Credential, error)
	ListCredentials(ctx context.Context, accountSid string, q PageQuery) ([]*Credential, error)
	// UpdateCredential writes every mutable field of c.
	UpdateCredential(ctx context.Context, c *Credential) error
	DeleteCredential(ctx context.Context, accountSid, sid string) error

	// CreatePushBinding inserts b and sets b.Seq.
	CreatePushBinding(ctx context.Context, b *PushBinding) error
	GetPushBinding(ctx context.Context, serviceSid, sid string) (*PushBinding, error)
	ListPushBindings(ctx context.Context, serviceSid string, f PushBindingFilter, q PageQuery) ([]*PushBinding, error)
	DeletePushBinding(ctx context.Context, serviceSid, sid string) error

	// RoleAssigned reports whether a participant or a user holds the role.
	RoleAssigned(ctx context.Context, roleSid string) (bool, error)
	// LockRole takes a write lock on the role row for the rest of the transaction;
	// ShareLockRole a shared one (so that a role being assigned cannot be deleted at the
	// same time). ErrNotFound: no such role. Both are no-ops, returning nil, on engines
	// whose write transactions are already serial.
	LockRole(ctx context.Context, sid string) error
	ShareLockRole(ctx context.Context, sid string) error

	// FindConversation returns the conversation with that SID in any service.
	// ErrNotFound: none.
	FindConversation(ctx context.Context, sid string) (*Conversation, error)
	// DueConversations returns up to limit conversations (of serviceSid, or of every service
	// when it is "") whose inactive or closed timer date is at or before now, oldest first.
	DueConversations(ctx context.Context, serviceSid string, now time.Time, limit int) ([]*Conversation, error)
}
