package conv

import (
	"context"
	"time"
)

// User is a Conversation User (US): the service-wide identity behind chat participants. The
// identity is unique in its service and never changes.
type User struct {
	Seq          int64
	Sid          string
	AccountSid   string
	ServiceSid   string
	Identity     string
	FriendlyName *string
	// Attributes is valid JSON ("{}" when not given).
	Attributes string
	// RoleSid is the user's service-scoped role ("" when none).
	RoleSid     string
	DateCreated time.Time
	DateUpdated time.Time
	// IsOnline and IsNotifiable are Twilio's reachability indicators, nil when unknown. The
	// Service sets them on the user a fetch, create or update returns; they are not stored.
	IsOnline     *bool
	IsNotifiable *bool
}

// Membership is a participant together with its conversation, as the store joins them for the
// User Conversation and ParticipantConversation lists.
type Membership struct {
	// Seq is the row's cursor in its list (PageQuery.AfterSeq/BeforeSeq): the participant's
	// Seq in ListUserMemberships, the row's 1-based position in ListParticipantMemberships.
	Seq          int64
	Participant  *Participant
	Conversation *Conversation
	// NotificationLevel is the participant's User Conversation notification level.
	NotificationLevel string
	// UserSid is the User of the participant's identity in the service ("" when it has none).
	UserSid string
}

// ParticipantConversationFilter selects the participants of a ParticipantConversations list:
// the chat participants with Identity, or the non-chat participants with binding Address.
// Exactly one of the two is set.
type ParticipantConversationFilter struct {
	Identity string
	Address  string
}

// UserStore persists users and the User Conversation view of participants.
type UserStore interface {
	// CreateUser inserts u and sets u.Seq. ErrConflict: the identity is taken in the service.
	CreateUser(ctx context.Context, u *User) error
	// InsertUserIfAbsent inserts u unless the service already has a user with its identity,
	// and reports whether it did (setting u.Seq). It never fails with ErrConflict, so the
	// transaction stays usable on every engine.
	InsertUserIfAbsent(ctx context.Context, u *User) (bool, error)
	// ShareLockUser takes a shared lock on the service's user with that identity until the
	// transaction ends, so that it cannot be deleted meanwhile. ErrNotFound: no such user.
	ShareLockUser(ctx context.Context, serviceSid, identity string) error
	// GetUser returns a user of the service. ErrNotFound.
	GetUser(ctx context.Context, serviceSid, sid string) (*User, error)
	// GetUserByIdentity returns the service's user with that identity. ErrNotFound.
	GetUserByIdentity(ctx context.Context, serviceSid, identity string) (*User, error)
	// ListUsers returns one page of the service's users in creation order.
	ListUsers(ctx context.Context, serviceSid string, q PageQuery) ([]*User, error)
	// UpdateUser writes the friendly name, attributes, role and dates of u. ErrNotFound.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser deletes a user of the service (its participants stay). ErrNotFound.
	DeleteUser(ctx context.Context, serviceSid, sid string) error

	// ListUserMemberships returns one page of the service's participants with that identity,
	// each with its conversation, in the order they joined (Seq is the participant's Seq).
	ListUserMemberships(ctx context.Context, serviceSid, identity string, q PageQuery) ([]*Membership, error)
	// ListParticipantMemberships returns one page of the service's participants f selects,
	// each with its conversation and its identity's user, ordered by conversation sid then
	// participant sid; each row's Seq is its 1-based position in that order, and the
	// PageQuery cursors are positions too.
	ListParticipantMemberships(ctx context.Context, serviceSid string, f ParticipantConversationFilter, q PageQuery) ([]*Membership, error)
	// GetNotificationLevel returns a participant's notification level. ErrNotFound.
	GetNotificationLevel(ctx context.Context, conversationSid, participantSid string) (string, error)
	// SetNotificationLevel writes a participant's notification level. ErrNotFound.
	SetNotificationLevel(ctx context.Context, conversationSid, participantSid, level string) error
}
