package httpapi

import (
	"net/http"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

// messageRoutes registers the Message and Message Receipt operations on both URL forms.
func (a *API) messageRoutes() {
	a.both("POST", "/Conversations/{ConversationSid}/Messages", a.createMessage)
	a.both("GET", "/Conversations/{ConversationSid}/Messages", a.listMessages)
	a.both("GET", "/Conversations/{ConversationSid}/Messages/{Sid}", a.fetchMessage)
	a.both("POST", "/Conversations/{ConversationSid}/Messages/{Sid}", a.updateMessage)
	a.both("DELETE", "/Conversations/{ConversationSid}/Messages/{Sid}", a.deleteMessage)
	a.both("GET", "/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts", a.listReceipts)
	a.both("GET", "/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts/{Sid}", a.fetchReceipt)
}

// ---- wire shapes ----

type deliverySummaryJSON struct {
	Total       int    `json:"total"`
	Sent        string `json:"sent"`
	Delivered   string `json:"delivered"`
	Read        string `json:"read"`
	Failed      string `json:"failed"`
	Undelivered string `json:"undelivered"`
}

// messageMediaJSON is one item of a message's media array (the spec's four keys).
type messageMediaJSON struct {
	Sid         string  `json:"sid"`
	Size        int64   `json:"size"`
	ContentType string  `json:"content_type"`
	Filename    *string `json:"filename"`
}

type messageJSON struct {
	Sid             string               `json:"sid"`
	AccountSid      string               `json:"account_sid"`
	ChatServiceSid  *string              `json:"chat_service_sid,omitempty"` // service URL form only
	ConversationSid string               `json:"conversation_sid"`
	Body            *string              `json:"body"`
	Media           []messageMediaJSON   `json:"media"` // null when the message has none
	Author          string               `json:"author"`
	ParticipantSid  *string              `json:"participant_sid"`
	Attributes      string               `json:"attributes"`
	DateCreated     twDate               `json:"date_created"`
	DateUpdated     twDate               `json:"date_updated"`
	Index           int64                `json:"index"`
	Delivery        *deliverySummaryJSON `json:"delivery"`
	ContentSid      *string              `json:"content_sid"`
	URL             string               `json:"url"`
	Links           map[string]string    `json:"links"`
}

func (rc *reqCtx) messageURL(serviceSid, conversationSid, sid string) string {
	return rc.conversationURL(serviceSid, conversationSid) + "/Messages/" + sid
}

func (rc *reqCtx) message(m *conv.Message) messageJSON {
	u := rc.messageURL(m.ServiceSid, m.ConversationSid, m.Sid)
	out := messageJSON{
		Sid: m.Sid, AccountSid: m.AccountSid, ConversationSid: m.ConversationSid, Body: m.Body, Author: m.Author,
		ParticipantSid: nullable(m.ParticipantSid), Attributes: m.Attributes, DateCreated: twDate(m.DateCreated),
		DateUpdated: twDate(m.DateUpdated), Index: m.Index, ContentSid: nullable(m.ContentSid), URL: u,
		Links: map[string]string{"delivery_receipts": u + "/Receipts", "channel_metadata": u + "/ChannelMetadata"},
	}
	if rc.serviceForm {
		out.ChatServiceSid = &m.ServiceSid
	}
	for _, me := range m.Media {
		out.Media = append(out.Media, messageMediaJSON{Sid: me.Sid, Size: me.Size, ContentType: me.ContentType, Filename: nullable(me.Filename)})
	}
	if d := m.Delivery; d != nil {
		out.Delivery = &deliverySummaryJSON{Total: d.Total, Sent: d.Sent, Delivered: d.Delivered, Read: d.Read,
			Failed: d.Failed, Undelivered: d.Undelivered}
	}
	return out
}

type receiptJSON struct {
	Sid               string  `json:"sid"`
	AccountSid        string  `json:"account_sid"`
	ChatServiceSid    *string `json:"chat_service_sid,omitempty"` // service URL form only
	ConversationSid   string  `json:"conversation_sid"`
	MessageSid        string  `json:"message_sid"`
	ChannelMessageSid *string `json:"channel_message_sid"`
	Status            string  `json:"status"`
	ErrorCode         int     `json:"error_code"`
	ParticipantSid    string  `json:"participant_sid"`
	DateCreated       twDate  `json:"date_created"`
	DateUpdated       twDate  `json:"date_updated"`
	URL               string  `json:"url"`
}

func (rc *reqCtx) receipt(d *conv.Delivery) receiptJSON {
	out := receiptJSON{
		Sid: d.Sid, AccountSid: d.AccountSid, ConversationSid: d.ConversationSid, MessageSid: d.MessageSid,
		ChannelMessageSid: nullable(d.ChannelMessageSid), Status: d.ReceiptStatus(), ErrorCode: d.ErrorCode,
		ParticipantSid: d.ParticipantSid, DateCreated: twDate(d.DateCreated), DateUpdated: twDate(d.DateUpdated),
		URL: rc.messageURL(d.ServiceSid, d.ConversationSid, d.MessageSid) + "/Receipts/" + d.Sid,
	}
	if rc.serviceForm {
		out.ChatServiceSid = &d.ServiceSid
	}
	return out
}

// ---- messages ----

func (a *API) createMessage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := conv.MessageCreate{
		Author: f.str("Author"), Body: f.str("Body"), Attributes: f.str("Attributes"), MediaSid: f.str("MediaSid"),
		ContentSid: f.str("ContentSid"), ContentVariables: f.str("ContentVariables"), Subject: f.str("Subject"),
	}
	if in.DateCreated, in.DateUpdated, err = f.dates(); err != nil {
		return err
	}
	m, err := a.svc.CreateMessage(r.Context(), rc.scope, r.PathValue("ConversationSid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.message(m))
	return nil
}

func (a *API) fetchMessage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	m, err := a.svc.FetchMessage(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.message(m))
	return nil
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	var filters [][2]string
	order := strings.ToLower(q.Get("Order"))
	switch order {
	case "":
	case "asc", "desc":
		filters = append(filters, [2]string{"Order", order})
	default:
		return conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: Order must be asc or desc, not %q", q.Get("Order"))
	}
	convRef := r.PathValue("ConversationSid")
	items, err := a.svc.ListMessages(r.Context(), rc.scope, convRef, conv.MessageQuery{PageQuery: p.query(), Desc: order == "desc"})
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations/" + escapeSegment(convRef) + "/Messages"
	return writeList(w, p, items, func(m *conv.Message) int64 { return m.Seq }, listURL, filters, "messages", rc.message)
}

func (a *API) updateMessage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := conv.MessageUpdate{
		Author: f.str("Author"), Body: f.str("Body"), Attributes: f.str("Attributes"), Subject: f.str("Subject"),
	}
	if in.DateCreated, in.DateUpdated, err = f.dates(); err != nil {
		return err
	}
	m, err := a.svc.UpdateMessage(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.message(m))
	return nil
}

func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteMessage(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- receipts ----

func (a *API) listReceipts(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	convRef, msg := r.PathValue("ConversationSid"), r.PathValue("MessageSid")
	items, err := a.svc.ListReceipts(r.Context(), rc.scope, convRef, msg, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations/" + escapeSegment(convRef) + "/Messages/" + escapeSegment(msg) + "/Receipts"
	return writeList(w, p, items, func(d *conv.Delivery) int64 { return d.Seq }, listURL, nil, "delivery_receipts", rc.receipt)
}

func (a *API) fetchReceipt(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := a.svc.FetchReceipt(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("MessageSid"), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.receipt(d))
	return nil
}
