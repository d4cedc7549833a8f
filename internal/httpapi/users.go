package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// userRoutes registers the User, User Conversation and ParticipantConversation operations on
// both URL forms.
func (a *API) userRoutes() {
	a.both("POST", "/Users", a.createUser)
	a.both("GET", "/Users", a.listUsers)
	a.both("GET", "/Users/{Sid}", a.fetchUser)
	a.both("POST", "/Users/{Sid}", a.updateUser)
	a.both("DELETE", "/Users/{Sid}", a.deleteUser)
	a.both("GET", "/Users/{UserSid}/Conversations", a.listUserConversations)
	a.both("GET", "/Users/{UserSid}/Conversations/{ConversationSid}", a.fetchUserConversation)
	a.both("POST", "/Users/{UserSid}/Conversations/{ConversationSid}", a.updateUserConversation)
	a.both("DELETE", "/Users/{UserSid}/Conversations/{ConversationSid}", a.deleteUserConversation)
	a.both("GET", "/ParticipantConversations", a.listParticipantConversations)
}

// ---- wire shapes ----

type userJSON struct {
	Sid            string            `json:"sid"`
	AccountSid     string            `json:"account_sid"`
	ChatServiceSid string            `json:"chat_service_sid"`
	RoleSid        *string           `json:"role_sid"`
	Identity       string            `json:"identity"`
	FriendlyName   *string           `json:"friendly_name"`
	Attributes     string            `json:"attributes"`
	IsOnline       *bool             `json:"is_online"`
	IsNotifiable   *bool             `json:"is_notifiable"`
	DateCreated    twDate            `json:"date_created"`
	DateUpdated    twDate            `json:"date_updated"`
	URL            string            `json:"url"`
	Links          map[string]string `json:"links"`
}

func (rc *reqCtx) userURL(serviceSid, userSid string) string {
	return rc.servicePrefix(serviceSid) + "/Users/" + userSid
}

func (rc *reqCtx) user(u *conv.User) userJSON {
	self := rc.userURL(u.ServiceSid, u.Sid)
	return userJSON{Sid: u.Sid, AccountSid: u.AccountSid, ChatServiceSid: u.ServiceSid, RoleSid: nullable(u.RoleSid),
		Identity: u.Identity, FriendlyName: u.FriendlyName, Attributes: u.Attributes, IsOnline: u.IsOnline,
		IsNotifiable: u.IsNotifiable, DateCreated: twDate(u.DateCreated), DateUpdated: twDate(u.DateUpdated), URL: self,
		Links: map[string]string{"user_conversations": self + "/Conversations"}}
}

// createdBy is the created_by of every conversation: Parley's conversations are all created
// through the REST API, which Twilio reports as "system" (see docs/compatibility.md).
const createdBy = "system"

type userConversationJSON struct {
	AccountSid           string            `json:"account_sid"`
	ChatServiceSid       string            `json:"chat_service_sid"`
	ConversationSid      string            `json:"conversation_sid"`
	UnreadMessagesCount  *int64            `json:"unread_messages_count"`
	LastReadMessageIndex *int64            `json:"last_read_message_index"`
	ParticipantSid       string            `json:"participant_sid"`
	UserSid              string            `json:"user_sid"`
	FriendlyName         *string           `json:"friendly_name"`
	ConversationState    string            `json:"conversation_state"`
	Timers               timersJSON        `json:"timers"`
	Attributes           string            `json:"attributes"`
	DateCreated          twDate            `json:"date_created"`
	DateUpdated          twDate            `json:"date_updated"`
	CreatedBy            string            `json:"created_by"`
	NotificationLevel    string            `json:"notification_level"`
	UniqueName           *string           `json:"unique_name"`
	URL                  string            `json:"url"`
	Links                map[string]string `json:"links"`
}

// membershipLinks are the links of a User Conversation or ParticipantConversation.
func (rc *reqCtx) membershipLinks(p *conv.Participant) map[string]string {
	cu := rc.conversationURL(p.ServiceSid, p.ConversationSid)
	return map[string]string{"participant": cu + "/Participants/" + p.Sid, "conversation": cu}
}

func (rc *reqCtx) userConversation(uc *conv.UserConversation) userConversationJSON {
	c, p := uc.Conversation, uc.Participant
	return userConversationJSON{AccountSid: c.AccountSid, ChatServiceSid: c.ServiceSid, ConversationSid: c.Sid,
		UnreadMessagesCount: uc.UnreadMessagesCount, LastReadMessageIndex: p.LastReadMessageIndex, ParticipantSid: p.Sid,
		UserSid: uc.User.Sid, FriendlyName: c.FriendlyName, ConversationState: c.State,
		Timers:     timersJSON{DateInactive: datePtr(c.DateInactive), DateClosed: datePtr(c.DateClosed)},
		Attributes: c.Attributes, DateCreated: twDate(c.DateCreated), DateUpdated: twDate(c.DateUpdated), CreatedBy: createdBy,
		NotificationLevel: uc.NotificationLevel, UniqueName: c.UniqueName,
		URL:   rc.userURL(c.ServiceSid, uc.User.Sid) + "/Conversations/" + c.Sid,
		Links: rc.membershipLinks(p)}
}

// participantBindingJSON is participant_messaging_binding: every key of the spec's example,
// null when it does not apply.
type participantBindingJSON struct {
	Address          *string `json:"address"`
	ProxyAddress     *string `json:"proxy_address"`
	Type             string  `json:"type"`
	Level            *string `json:"level"` // always null: Parley stores no binding level or name
	Name             *string `json:"name"`
	ProjectedAddress *string `json:"projected_address"`
}

type participantConversationJSON struct {
	AccountSid                  string                  `json:"account_sid"`
	ChatServiceSid              string                  `json:"chat_service_sid"`
	ParticipantSid              string                  `json:"participant_sid"`
	ParticipantUserSid          *string                 `json:"participant_user_sid"`
	ParticipantIdentity         *string                 `json:"participant_identity"`
	ParticipantMessagingBinding *participantBindingJSON `json:"participant_messaging_binding"`
	ConversationSid             string                  `json:"conversation_sid"`
	ConversationUniqueName      *string                 `json:"conversation_unique_name"`
	ConversationFriendlyName    *string                 `json:"conversation_friendly_name"`
	ConversationAttributes      string                  `json:"conversation_attributes"`
	ConversationDateCreated     twDate                  `json:"conversation_date_created"`
	ConversationDateUpdated     twDate                  `json:"conversation_date_updated"`
	ConversationCreatedBy       string                  `json:"conversation_created_by"`
	ConversationState           string                  `json:"conversation_state"`
	ConversationTimers          timersJSON              `json:"conversation_timers"`
	Links                       map[string]string       `json:"links"`
}

func (rc *reqCtx) participantConversation(m *conv.Membership) participantConversationJSON {
	c, p := m.Conversation, m.Participant
	out := participantConversationJSON{AccountSid: c.AccountSid, ChatServiceSid: c.ServiceSid, ParticipantSid: p.Sid,
		ParticipantUserSid: nullable(m.UserSid), ParticipantIdentity: p.Identity, ConversationSid: c.Sid,
		ConversationUniqueName: c.UniqueName, ConversationFriendlyName: c.FriendlyName, ConversationAttributes: c.Attributes,
		ConversationDateCreated: twDate(c.DateCreated), ConversationDateUpdated: twDate(c.DateUpdated),
		ConversationCreatedBy: createdBy, ConversationState: c.State,
		ConversationTimers: timersJSON{DateInactive: datePtr(c.DateInactive), DateClosed: datePtr(c.DateClosed)},
		Links:              rc.membershipLinks(p)}
	if b := p.Binding; b != nil {
		out.ParticipantMessagingBinding = &participantBindingJSON{Type: b.Type, Address: nullable(b.Address),
			ProxyAddress: nullable(b.ProxyAddress), ProjectedAddress: nullable(b.ProjectedAddress)}
	}
	return out
}

// ---- users ----

func (a *API) createUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), rc.scope, conv.UserCreate{Identity: f.str("Identity"),
		FriendlyName: f.str("FriendlyName"), Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid")}, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.user(u))
	return nil
}

func (a *API) fetchUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	u, err := a.svc.FetchUser(r.Context(), rc.scope, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.user(u))
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	items, err := a.svc.ListUsers(r.Context(), rc.scope, p.query())
	if err != nil {
		return err
	}
	return writeList(w, p, items, func(u *conv.User) int64 { return u.Seq }, rc.servicePrefix(rc.scope.ServiceSid)+"/Users", nil, "users", rc.user)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(r.Context(), rc.scope, r.PathValue("Sid"), conv.UserUpdate{FriendlyName: f.str("FriendlyName"),
		Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid")}, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.user(u))
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteUser(r.Context(), rc.scope, r.PathValue("Sid"), o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- user conversations ----

func (a *API) listUserConversations(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	userRef := r.PathValue("UserSid")
	items, err := a.svc.ListUserConversations(r.Context(), rc.scope, userRef, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Users/" + escapeSegment(userRef) + "/Conversations"
	items, meta := pageOf(p, items, func(uc *conv.UserConversation) int64 { return uc.Participant.Seq }, listURL, nil, "conversations")
	out := make([]userConversationJSON, len(items))
	for i, uc := range items {
		out[i] = rc.userConversation(uc)
	}
	writeJSON(w, http.StatusOK, listBody("conversations", out, meta))
	return nil
}

func (a *API) fetchUserConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	uc, err := a.svc.FetchUserConversation(r.Context(), rc.scope, r.PathValue("UserSid"), r.PathValue("ConversationSid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.userConversation(uc))
	return nil
}

func (a *API) updateUserConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	// Parameters are checked in the order the domain always checked them.
	in := conv.UserConversationUpdate{NotificationLevel: f.str("NotificationLevel")}
	if in.NotificationLevel != nil {
		if err := conv.ValidateNotificationLevel(*in.NotificationLevel); err != nil {
			return err
		}
	}
	if in.LastReadMessageIndex, err = f.readIndex("LastReadMessageIndex"); err != nil {
		return err
	}
	if in.LastReadTimestamp, err = f.readTimestamp("LastReadTimestamp"); err != nil {
		return err
	}
	// The spec gives this operation no X-Twilio-Webhook-Enabled header: REST changes made
	// through it fire no webhooks.
	uc, err := a.svc.UpdateUserConversation(r.Context(), rc.scope, r.PathValue("UserSid"), r.PathValue("ConversationSid"), in, conv.WriteOptions{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.userConversation(uc))
	return nil
}

func (a *API) deleteUserConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteUserConversation(r.Context(), rc.scope, r.PathValue("UserSid"), r.PathValue("ConversationSid"), conv.WriteOptions{}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- participant conversations ----

func (a *API) listParticipantConversations(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	f := conv.ParticipantConversationFilter{Identity: q.Get("Identity"), Address: q.Get("Address")}
	var filters [][2]string
	if f.Identity != "" {
		filters = append(filters, [2]string{"Identity", f.Identity})
	}
	if f.Address != "" {
		filters = append(filters, [2]string{"Address", f.Address})
	}
	items, err := a.svc.ListParticipantConversations(r.Context(), rc.scope, f, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/ParticipantConversations"
	return writeList(w, p, items, func(m *conv.Membership) int64 { return m.Seq }, listURL, filters, "conversations", rc.participantConversation)
}
