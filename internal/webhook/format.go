package webhook

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// The wire format of Conversations webhooks: the form parameters of each event's request and
// the JSON answer of a pre-event webhook.

// Format renders events as webhook requests (it implements conv.WebhookFormat).
type Format struct{}

// EncodeEvent returns the encoded form parameters of e's request (without RetryCount).
func (Format) EncodeEvent(e conv.Event) string { return eventParams(e).Encode() }

// preEventParams returns the parameters of pre-event e's request showing the changes earlier
// hooks made.
func preEventParams(e conv.Event, ch conv.PreEventChanges) url.Values {
	v := eventParams(e)
	setOpt(v, "FriendlyName", ch.FriendlyName)
	setOpt(v, "Body", ch.Body)
	setOpt(v, "Author", ch.Author)
	setOpt(v, "Attributes", ch.Attributes)
	return v
}

// preAnswerChanges returns the changes in a pre-event webhook's JSON answer: friendly_name,
// body, author and attributes, string values as they are, other JSON values (attributes given
// as an object) as JSON text. An empty body, "{}" or anything that is not a JSON object
// changes nothing. (The Service keeps the fields the event type lets a hook change.)
func preAnswerChanges(body []byte) conv.PreEventChanges {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return conv.PreEventChanges{}
	}
	field := func(k string) *string {
		raw, ok := obj[k]
		if !ok || string(raw) == "null" {
			return nil
		}
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			str = string(raw)
		}
		return &str
	}
	return conv.PreEventChanges{FriendlyName: field("friendly_name"), Body: field("body"), Author: field("author"),
		Attributes: field("attributes")}
}

func formatDate(t time.Time) string { return t.UTC().Format(conv.DateFormat) }

// eventParams returns the form parameters of e's webhook request (without RetryCount, which
// the dispatcher adds per attempt): the common AccountSid, EventType, Source, ClientIdentity
// (SDK only) and ChatServiceSid, then the fields Twilio documents for the event type.
// Parameters whose value is null are left out.
func eventParams(e conv.Event) url.Values {
	v := url.Values{}
	v.Set("EventType", string(e.Type))
	v.Set("AccountSid", e.AccountSid)
	switch e.Source {
	case conv.SourceAPI, conv.SourceSDK, conv.SourceSMS, conv.SourceWhatsApp:
		v.Set("Source", e.Source)
	case "":
		v.Set("Source", conv.SourceAPI)
	}
	if e.Source == conv.SourceSDK && e.ClientIdentity != "" {
		v.Set("ClientIdentity", e.ClientIdentity)
	}
	if e.ServiceSid != "" {
		v.Set("ChatServiceSid", e.ServiceSid)
	}
	switch {
	case strings.HasPrefix(string(e.Type), "onUser") && e.User != nil:
		userWebhookParams(v, e)
	case strings.HasPrefix(string(e.Type), "onParticipant") && e.Participant != nil:
		participantParams(v, e)
	case strings.HasPrefix(string(e.Type), "onMessage") && e.Message != nil:
		messageParams(v, e)
	case e.Type == conv.EventConversationStateUpdated && e.Conversation != nil:
		stateParams(v, e)
	case strings.HasPrefix(string(e.Type), "onConversation") && e.Conversation != nil:
		conversationParams(v, e)
	}
	return v
}

func setOpt(v url.Values, key string, p *string) {
	if p != nil {
		v.Set(key, *p)
	}
}

func setNonEmpty(v url.Values, key, val string) {
	if val != "" {
		v.Set(key, val)
	}
}

// conversationParams: onConversationAdd carries the proposed FriendlyName, UniqueName,
// Attributes, MessagingServiceSid and State; the others add ConversationSid, DateCreated and
// DateUpdated, and onConversationRemoved DateRemoved.
func conversationParams(v url.Values, e conv.Event) {
	c := e.Conversation
	if e.Type != conv.EventConversationAdd {
		v.Set("ConversationSid", c.Sid)
		v.Set("DateCreated", formatDate(c.DateCreated))
		v.Set("DateUpdated", formatDate(c.DateUpdated))
	}
	setOpt(v, "FriendlyName", c.FriendlyName)
	setOpt(v, "UniqueName", c.UniqueName)
	v.Set("Attributes", c.Attributes)
	setNonEmpty(v, "MessagingServiceSid", c.MessagingServiceSid)
	v.Set("State", c.State)
	if e.Type == conv.EventConversationRemoved {
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// stateParams: onConversationStateUpdated carries ConversationSid, StateFrom, StateTo,
// StateUpdated, Reason (API, TIMER, or EVENT when a message caused it) and
// MessagingServiceSid.
func stateParams(v url.Values, e conv.Event) {
	c := e.Conversation
	v.Set("ConversationSid", c.Sid)
	setNonEmpty(v, "StateFrom", e.StateFrom)
	v.Set("StateTo", c.State)
	v.Set("StateUpdated", formatDate(e.Time))
	reason := "API"
	switch {
	case e.Source == conv.SourceTimer:
		reason = "TIMER"
	case e.Message != nil: // a new message reactivated the conversation
		reason = "EVENT"
	}
	v.Set("Reason", reason)
	setNonEmpty(v, "MessagingServiceSid", c.MessagingServiceSid)
}

// participantParams: ConversationSid, ParticipantSid (not on onParticipantAdd), Identity,
// RoleSid, Attributes, MessagingBinding.Type (CHAT, SMS, WHATSAPP, ...) and its addresses,
// DateCreated (not on onParticipantAdd), DateUpdated (update and remove events),
// LastReadMessageIndex/LastReadTimestamp (update events) and DateRemoved (onParticipantRemoved).
func participantParams(v url.Values, e conv.Event) {
	p := e.Participant
	v.Set("ConversationSid", p.ConversationSid)
	if e.Type != conv.EventParticipantAdd {
		v.Set("ParticipantSid", p.Sid)
	}
	setOpt(v, "Identity", p.Identity)
	setNonEmpty(v, "RoleSid", p.RoleSid)
	v.Set("Attributes", p.Attributes)
	if b := p.Binding; b != nil {
		v.Set("MessagingBinding.Type", strings.ToUpper(b.Type))
		setNonEmpty(v, "MessagingBinding.Address", b.Address)
		setNonEmpty(v, "MessagingBinding.ProxyAddress", b.ProxyAddress)
		setNonEmpty(v, "MessagingBinding.ProjectedAddress", b.ProjectedAddress)
	} else {
		v.Set("MessagingBinding.Type", "CHAT")
	}
	if e.Type != conv.EventParticipantAdd {
		v.Set("DateCreated", formatDate(p.DateCreated))
	}
	switch e.Type {
	case conv.EventParticipantUpdate, conv.EventParticipantUpdated:
		v.Set("DateUpdated", formatDate(p.DateUpdated))
		if p.LastReadMessageIndex != nil {
			v.Set("LastReadMessageIndex", strconv.FormatInt(*p.LastReadMessageIndex, 10))
		}
		setOpt(v, "LastReadTimestamp", p.LastReadTimestamp)
	case conv.EventParticipantRemove:
		v.Set("DateUpdated", formatDate(p.DateUpdated))
	case conv.EventParticipantRemoved:
		v.Set("DateUpdated", formatDate(p.DateUpdated))
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// messageParams: ConversationSid, Body, Author, ParticipantSid, Attributes, Media (with media); all but
// onMessageAdd add MessageSid, Index and DateCreated, MessagingServiceSid when the
// conversation has one, update events DateUpdated and onMessageRemoved DateRemoved.
func messageParams(v url.Values, e conv.Event) {
	m := e.Message
	v.Set("ConversationSid", m.ConversationSid)
	setOpt(v, "Body", m.Body)
	v.Set("Author", m.Author)
	setNonEmpty(v, "ParticipantSid", m.ParticipantSid)
	v.Set("Attributes", m.Attributes)
	if len(m.Media) > 0 {
		v.Set("Media", mediaParam(m.Media))
	}
	if e.Type != conv.EventMessageAdd {
		v.Set("MessageSid", m.Sid)
		v.Set("Index", strconv.FormatInt(m.Index, 10))
		v.Set("DateCreated", formatDate(m.DateCreated))
		if e.Conversation != nil {
			setNonEmpty(v, "MessagingServiceSid", e.Conversation.MessagingServiceSid)
		}
	}
	switch e.Type {
	case conv.EventMessageUpdate, conv.EventMessageUpdated:
		v.Set("DateUpdated", formatDate(m.DateUpdated))
	case conv.EventMessageRemoved:
		v.Set("DateRemoved", formatDate(e.Time))
	}
}

// mediaParam is the Media parameter of a message with media: a JSON array of {ContentType,
// Filename, Category, Sid, Size} (Filename left out when the media has none).
func mediaParam(refs []conv.MediaRef) string {
	type item struct {
		ContentType string `json:"ContentType"`
		Filename    string `json:"Filename,omitempty"`
		Category    string `json:"Category"`
		Sid         string `json:"Sid"`
		Size        int64  `json:"Size"`
	}
	out := make([]item, len(refs))
	for i, r := range refs {
		out[i] = item{ContentType: r.ContentType, Filename: r.Filename, Category: conv.MediaCategoryMedia, Sid: r.Sid, Size: r.Size}
	}
	b, _ := json.Marshal(out) // strings and numbers only: cannot fail
	return string(b)
}

// userWebhookParams: onUserAdded/onUserUpdate(d) carry UserSid, Identity, FriendlyName, RoleSid,
// Attributes, DateCreated and DateUpdated.
func userWebhookParams(v url.Values, e conv.Event) {
	u := e.User
	v.Set("UserSid", u.Sid)
	v.Set("Identity", u.Identity)
	setOpt(v, "FriendlyName", u.FriendlyName)
	setNonEmpty(v, "RoleSid", u.RoleSid)
	v.Set("Attributes", u.Attributes)
	v.Set("DateCreated", formatDate(u.DateCreated))
	v.Set("DateUpdated", formatDate(u.DateUpdated))
}
