package conv

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Push notifications, recorded not sent: when a message is added or a chat participant added
// or removed, the service's notification configuration and each recipient's push bindings
// decide which pushes Twilio would send to FCM or APNs; each is recorded in the push outbox
// (GET /parley/v1/Push), in the transaction of the change that caused it.

// Push message types (the SDK's names; bindings list them without the prefix).
const (
	PushNewMessage              = "twilio.conversations.new_message"
	PushAddedToConversation     = "twilio.conversations.added_to_conversation"
	PushRemovedFromConversation = "twilio.conversations.removed_from_conversation"
	pushTypePrefix              = "twilio.conversations."
	// PrefixPushNotification is the SID prefix of a recorded push (Twilio's twi_message_id).
	PrefixPushNotification = "RU"
	// MaxPushBodyLen is where Twilio cuts the rendered template (characters).
	MaxPushBodyLen = 178
)

// Twilio's default templates (push-notification-configuration doc), used while a service's
// template is unset.
const (
	DefaultNewMessageTemplate      = "${CONVERSATION}:${PARTICIPANT}: ${MESSAGE}"
	DefaultNewMediaMessageTemplate = "You have a new message in ${CONVERSATION} with ${MEDIA_COUNT} media files: ${MEDIA}"
	DefaultAddedTemplate           = "You have been added to the conversation ${CONVERSATION} by ${PARTICIPANT}"
	DefaultRemovedTemplate         = "${PARTICIPANT} has removed you from the conversation ${CONVERSATION}"
)

// PushNotification is one push Parley would have sent to a binding.
type PushNotification struct {
	Seq             int64
	Sid             string // RU…, the payload's twi_message_id
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	MessageSid      string // new_message only
	BindingSid      string
	BindingType     string // fcm, gcm or apn
	CredentialSid   string
	Identity        string
	Address         string // the device token
	MessageType     string // one of the Push* types
	Body            string // the rendered template
	Sound           *string
	Badge           *int64 // APNs new_message with badge_count_enabled
	// Data are the string keys of the payload (FCM data; at the root of an APNs payload).
	Data        map[string]string
	DateCreated time.Time
}

// PushFilter narrows the push outbox; empty fields match everything.
type PushFilter struct {
	Identity        string
	BindingSid      string
	ConversationSid string
}

// PushStore persists the push outbox and finds bindings by device.
type PushStore interface {
	// InsertPush records p and sets p.Seq.
	InsertPush(ctx context.Context, p *PushNotification) error
	// ListPushes returns one page of the account's push outbox in recording order.
	ListPushes(ctx context.Context, accountSid string, f PushFilter, q PageQuery) ([]*PushNotification, error)
	// FindPushBinding returns the service's binding of identity with that type and address.
	// ErrNotFound.
	FindPushBinding(ctx context.Context, serviceSid, identity, bindingType, address string) (*PushBinding, error)
	// UpdatePushBinding writes b's credential, endpoint, message types and date_updated.
	UpdatePushBinding(ctx context.Context, b *PushBinding) error
}

// DefaultPushMessageTypes are the message types an SDK registration subscribes (short form).
var DefaultPushMessageTypes = []string{"new_message", "added_to_conversation", "removed_from_conversation"}

// PushRegistration is a client's push registration (what the chat gateway receives from the
// SDK's setPushRegistrationId).
type PushRegistration struct {
	Identity      string
	CredentialSid string // the access token's chat grant push_credential_sid
	BindingType   string // fcm or apn (gcm accepted as fcm's predecessor)
	Address       string // the device token
	// MessageTypes are the types subscribed, long or short names (nil: DefaultPushMessageTypes).
	MessageTypes []string
}

// RegisterPushBinding creates the push binding of a client registration, or updates the one
// the identity already has for that device (type and address), as Twilio's registrar upserts.
// Errors: 20404 (service), 50209 (binding type), 20422 (no identity, address or credential;
// credential of another type), 20404 (unknown credential).
func (s *Service) RegisterPushBinding(ctx context.Context, sc Scope, in PushRegistration) (*PushBinding, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	switch in.BindingType {
	case CredentialFCM, CredentialAPN, CredentialGCM:
	default:
		return nil, invalid(50209, "Invalid binding type %q: a push registration is fcm or apn", in.BindingType)
	}
	switch {
	case in.Identity == "":
		return nil, invalid(20422, "Invalid Parameter: a push registration needs an identity")
	case in.Address == "":
		return nil, invalid(20422, "Invalid Parameter: a push registration needs a device token (address)")
	case in.CredentialSid == "":
		return nil, invalid(20422, "Invalid Parameter: a push registration needs a push credential (the token's chat grant push_credential_sid)")
	case !IsSID(PrefixCredential, in.CredentialSid):
		return nil, Errorf(KindNotFound, 20404, "The requested resource /Credentials/%s was not found", in.CredentialSid)
	}
	types := make([]string, 0, len(DefaultPushMessageTypes))
	for _, t := range in.MessageTypes {
		if short, ok := strings.CutPrefix(t, pushTypePrefix); ok && slices.Contains(DefaultPushMessageTypes, short) && !slices.Contains(types, short) {
			types = append(types, short)
		} else if slices.Contains(DefaultPushMessageTypes, t) && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if in.MessageTypes == nil {
		types = append(types, DefaultPushMessageTypes...)
	}
	var out *PushBinding
	err = s.store.WithTx(ctx, func(tx Store) error {
		out = nil
		cred, err := tx.GetCredential(ctx, svc.AccountSid, in.CredentialSid)
		if errors.Is(err, ErrNotFound) {
			return Errorf(KindNotFound, 20404, "The requested resource /Credentials/%s was not found", in.CredentialSid)
		} else if err != nil {
			return err
		}
		if want := in.BindingType; cred.Type != want && !(want == CredentialGCM && cred.Type == CredentialFCM) && !(want == CredentialFCM && cred.Type == CredentialGCM) {
			return invalid(20422, "Invalid Parameter: credential %s is of type %s, not %s", cred.Sid, cred.Type, want)
		}
		now := s.clock()
		b, err := tx.FindPushBinding(ctx, svc.Sid, in.Identity, in.BindingType, in.Address)
		switch {
		case err == nil:
			b.CredentialSid, b.MessageTypes, b.DateUpdated = cred.Sid, types, now
			out = b
			return tx.UpdatePushBinding(ctx, b)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		b = &PushBinding{Sid: s.sids.New(PrefixPushBinding), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, CredentialSid: cred.Sid,
			Identity: in.Identity, BindingType: in.BindingType, Address: in.Address, MessageTypes: types, DateCreated: now, DateUpdated: now}
		b.Endpoint = in.Identity + "-" + b.Sid
		out = b
		return tx.CreatePushBinding(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListPushes returns one page of the account's push outbox, oldest first.
func (s *Service) ListPushes(ctx context.Context, accountSid string, f PushFilter, q PageQuery) ([]*PushNotification, error) {
	return s.store.ListPushes(ctx, accountSid, f, q)
}

// pushConversationTitle is ${CONVERSATION}: unique name, else friendly name, else SID.
func pushConversationTitle(c *Conversation) string {
	for _, p := range []*string{c.UniqueName, c.FriendlyName} {
		if p != nil && *p != "" {
			return *p
		}
	}
	return c.Sid
}

func firstOf(sid string, ps ...*string) string {
	for _, p := range ps {
		if p != nil && *p != "" {
			return *p
		}
	}
	return sid
}

// renderPushTemplate substitutes Twilio's template variables and cuts the text to 178
// characters.
func renderPushTemplate(tmpl string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			break
		}
		name := tmpl[i+2 : i+j]
		b.WriteString(tmpl[:i])
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
	out := b.String()
	if utf8.RuneCountInString(out) > MaxPushBodyLen {
		out = string([]rune(out)[:MaxPushBodyLen])
	}
	return out
}

// pushActor is ${PARTICIPANT}: the acting participant's user friendly name, else identity,
// else its address; name when there is no participant.
func pushActor(ctx context.Context, tx Store, serviceSid string, p *Participant, name string) (string, error) {
	if p == nil {
		return name, nil
	}
	if p.Identity != nil {
		u, err := tx.GetUserByIdentity(ctx, serviceSid, *p.Identity)
		if err == nil && u.FriendlyName != nil && *u.FriendlyName != "" {
			return *u.FriendlyName, nil
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		return *p.Identity, nil
	}
	if p.Binding != nil {
		return firstOf(name, &p.Binding.Address, &p.Binding.ProjectedAddress), nil
	}
	return name, nil
}

// pushPlan is one kind of push to some recipients.
type pushPlan struct {
	msgType string
	setting NotificationSetting
	deflt   string
	vars    map[string]string
	data    map[string]string
	msg     *Message
	badge   bool
}

// notificationsOf returns the service's notification settings, nil when none is enabled.
func notificationsOf(ctx context.Context, tx Store, serviceSid string) (*ServiceNotifications, error) {
	n, err := tx.GetServiceNotifications(ctx, serviceSid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !n.NewMessage.Enabled && !n.NewMessageWithMedia.Enabled && !n.AddedToConversation.Enabled && !n.RemovedFromConversation.Enabled {
		return nil, nil
	}
	return n, nil
}

func conversationVars(c *Conversation, actor, actorSid string) map[string]string {
	title := pushConversationTitle(c)
	return map[string]string{
		"PARTICIPANT": actor, "PARTICIPANT_FRIENDLY_NAME": actor, "PARTICIPANT_IDENTITY": actor, "PARTICIPANT_SID": firstOf(actor, &actorSid),
		"CONVERSATION": title, "CONVERSATION_FRIENDLY_NAME": firstOf(c.Sid, c.FriendlyName, c.UniqueName),
		"CONVERSATION_UNIQUE_NAME": firstOf(c.Sid, c.UniqueName, c.FriendlyName), "CONVERSATION_SID": c.Sid,
	}
}

// pushMessageAdded records the new_message pushes of m to the conversation's chat
// participants ps (not its author, not muted ones), in the message's transaction.
func (s *Service) pushMessageAdded(ctx context.Context, tx Store, c *Conversation, m *Message, ps []*Participant) error {
	n, err := notificationsOf(ctx, tx, c.ServiceSid)
	if n == nil || err != nil {
		return err
	}
	plan := pushPlan{msgType: PushNewMessage, msg: m, badge: n.NewMessageBadgeCount}
	switch {
	case len(m.Media) > 0 && n.NewMessageWithMedia.Enabled:
		plan.setting, plan.deflt = n.NewMessageWithMedia, DefaultNewMediaMessageTemplate
		plan.setting.Sound = n.NewMessage.Sound
	case n.NewMessage.Enabled:
		plan.setting, plan.deflt = n.NewMessage, DefaultNewMessageTemplate
	default:
		return nil
	}
	var author *Participant
	for _, p := range ps {
		if p.Sid == m.ParticipantSid {
			author = p
		}
	}
	actor, err := pushActor(ctx, tx, c.ServiceSid, author, m.Author)
	if err != nil {
		return err
	}
	plan.vars = conversationVars(c, actor, m.ParticipantSid)
	plan.vars["MESSAGE"] = ""
	if m.Body != nil {
		plan.vars["MESSAGE"] = *m.Body
	}
	plan.data = map[string]string{"conversation_sid": c.Sid, "conversation_title": pushConversationTitle(c), "message_sid": m.Sid,
		"message_index": strconv.FormatInt(m.Index, 10), "author": m.Author}
	if len(m.Media) > 0 {
		first := m.Media[0]
		plan.vars["MEDIA_COUNT"], plan.vars["MEDIA"] = strconv.Itoa(len(m.Media)), first.Filename
		type mediaItem struct {
			Sid         string `json:"sid"`
			Filename    string `json:"filename,omitempty"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
		}
		mj, err := json.Marshal(mediaItem{first.Sid, first.Filename, first.ContentType, first.Size})
		if err != nil {
			return err
		}
		plan.data["media_count"], plan.data["media"] = strconv.Itoa(len(m.Media)), string(mj)
	}
	for _, p := range ps {
		if p.Sid == m.ParticipantSid || !p.IsChat() {
			continue
		}
		if err := s.pushTo(ctx, tx, c, p, plan); err != nil {
			return err
		}
	}
	return nil
}

// pushParticipant records the added_to_conversation or removed_from_conversation push to p
// (a chat participant), in the change's transaction; actor is who acted (an SDK identity, or
// "system" for REST).
func (s *Service) pushParticipant(ctx context.Context, tx Store, c *Conversation, p *Participant, added bool, o WriteOptions) error {
	if !p.IsChat() {
		return nil
	}
	n, err := notificationsOf(ctx, tx, c.ServiceSid)
	if n == nil || err != nil {
		return err
	}
	plan := pushPlan{msgType: PushAddedToConversation, setting: n.AddedToConversation, deflt: DefaultAddedTemplate}
	if !added {
		plan.msgType, plan.setting, plan.deflt = PushRemovedFromConversation, n.RemovedFromConversation, DefaultRemovedTemplate
	}
	if !plan.setting.Enabled {
		return nil
	}
	actor := DefaultAuthor
	if o.ClientIdentity != "" {
		actor = o.ClientIdentity
	}
	plan.vars = conversationVars(c, actor, "")
	plan.data = map[string]string{"conversation_sid": c.Sid, "conversation_title": pushConversationTitle(c)}
	return s.pushTo(ctx, tx, c, p, plan)
}

// pushTo records plan's push to every binding of p's identity subscribed to its type, unless
// p muted the conversation.
func (s *Service) pushTo(ctx context.Context, tx Store, c *Conversation, p *Participant, plan pushPlan) error {
	level, err := tx.GetNotificationLevel(ctx, c.Sid, p.Sid)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if level == NotificationLevelMuted {
		return nil
	}
	bs, err := tx.ListPushBindings(ctx, c.ServiceSid, PushBindingFilter{Identities: []string{*p.Identity}}, PageQuery{Size: 100})
	if err != nil || len(bs) == 0 {
		return err
	}
	tmpl := plan.deflt
	if plan.setting.Template != nil {
		tmpl = *plan.setting.Template
	}
	body := renderPushTemplate(tmpl, plan.vars)
	short := strings.TrimPrefix(plan.msgType, pushTypePrefix)
	var badge *int64
	for _, b := range bs {
		if b.BindingType == "twilsock" || !slices.Contains(b.MessageTypes, short) {
			continue
		}
		pn := &PushNotification{Sid: s.sids.New(PrefixPushNotification), AccountSid: c.AccountSid, ServiceSid: c.ServiceSid,
			ConversationSid: c.Sid, BindingSid: b.Sid, BindingType: b.BindingType, CredentialSid: b.CredentialSid, Identity: b.Identity,
			Address: b.Address, MessageType: plan.msgType, Body: body, Sound: plan.setting.Sound, DateCreated: s.clock(),
			Data: map[string]string{"twi_message_type": plan.msgType, "twi_body": body}}
		pn.Data["twi_message_id"] = pn.Sid
		for k, v := range plan.data {
			pn.Data[k] = v
		}
		if pn.Sound != nil {
			pn.Data["twi_sound"] = *pn.Sound
		}
		if plan.msg != nil {
			pn.MessageSid = plan.msg.Sid
		}
		if plan.badge && b.BindingType == CredentialAPN {
			if badge == nil {
				// The recipient's unread messages in this conversation (Twilio counts
				// conversations with unread messages across the service).
				from := int64(-1)
				if p.LastReadMessageIndex != nil {
					from = *p.LastReadMessageIndex
				}
				n, err := tx.CountMessagesAfter(ctx, c.Sid, from)
				if err != nil {
					return err
				}
				badge = &n
			}
			pn.Badge = badge
		}
		if err := tx.InsertPush(ctx, pn); err != nil {
			return err
		}
	}
	return nil
}

// RemovePushRegistration deletes the push binding sid of identity (a client removing its own
// registration). Errors: 20404 (no such binding of that identity).
func (s *Service) RemovePushRegistration(ctx context.Context, sc Scope, identity, sid string) error {
	b, err := s.FetchPushBinding(ctx, sc, sid)
	if err != nil {
		return err
	}
	if b.Identity != identity {
		return NotFound()
	}
	return s.DeletePushBinding(ctx, sc, b.Sid)
}

// RemovePushRegistrations deletes every push binding of the scope's service with that binding
// type and device token, whatever its identity (the device is now someone else's or nobody's),
// and returns how many. Errors: 20404 (service), 50209 (binding type), 20422 (no address).
func (s *Service) RemovePushRegistrations(ctx context.Context, sc Scope, bindingType, address string) (int, error) {
	switch bindingType {
	case CredentialFCM, CredentialAPN, CredentialGCM:
	default:
		return 0, invalid(50209, "Invalid binding type %q: a push registration is fcm or apn", bindingType)
	}
	if address == "" {
		return 0, invalid(20422, "Invalid Parameter: removing push registrations needs a device token (address)")
	}
	var sids []string
	q := PageQuery{Size: 100}
	for {
		bs, err := s.ListPushBindings(ctx, sc, PushBindingFilter{BindingTypes: []string{bindingType}}, q)
		if err != nil {
			return 0, err
		}
		for _, b := range bs {
			if b.Address == address {
				sids = append(sids, b.Sid)
			}
		}
		if len(bs) < q.Size {
			break
		}
		q.AfterSeq, q.Offset = bs[len(bs)-1].Seq, 0
	}
	n := 0
	for _, sid := range sids {
		switch err := s.DeletePushBinding(ctx, sc, sid); {
		case err == nil:
			n++
		case !isNotFound(err): // gone meanwhile: already removed
			return n, err
		}
	}
	return n, nil
}
