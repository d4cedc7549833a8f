// Package aim is the Conversations client API the SDK reaches over the twilsock socket (host
// label "aim"): the client configuration and the conversation, message, participant, user,
// read-horizon and typing operations. Every mutation goes through conv.Service as an SDK
// action of the socket's identity, so rules, roles, error codes and webhooks are those of
// the REST API; the client then sees the result through the Sync view (internal/syncview).
package aim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/syncview"
)

// Typing pushes typing indicators (gateway.Hub implements it).
type Typing interface {
	Notify(accountSid, serviceSid, identity, messageType string, payload []byte) int
}

// Users makes sure a user's Sync objects exist (syncview.View implements it).
type Users interface {
	EnsureUser(ctx context.Context, u *conv.User) error
}

// API serves the aim routes.
type API struct {
	svc    *conv.Service
	typing Typing
	users  Users
}

// New returns the API over svc, pushing typing indicators through typing.
func New(svc *conv.Service, typing Typing, users Users) *API {
	return &API{svc: svc, typing: typing, users: users}
}

// Base is the prefix of the links Parley hands out in the configuration.
const Base = "https://aim.us1.twilio.com/Client/v2/Services/"

const svcPrefix = "/Client/v2/Services/{service}"

// Register adds the aim routes to rt.
func (a *API) Register(rt *gateway.Router) {
	h := func(f func(context.Context, *call) *gateway.Response) gateway.Upstream {
		return gateway.UpstreamFunc(func(ctx context.Context, r *gateway.Request) *gateway.Response { return a.serve(ctx, r, f) })
	}
	rt.Handle("GET", "aim", "/Client/v2/Configuration", gateway.UpstreamFunc(a.configuration))
	rt.Handle("GET", "aim", svcPrefix+"/Users/{identity}/Conversations", h(a.myConversations))
	rt.Handle("GET", "aim", svcPrefix+"/Users/{identity}/Conversations/{conv}", h(a.myConversation))
	rt.Handle("POST", "aim", svcPrefix+"/Users/{identity}/Conversations/{conv}", h(a.updateMyConversation))
	rt.Handle("GET", "aim", svcPrefix+"/Users/{identity}", h(a.getUser))
	rt.Handle("POST", "aim", svcPrefix+"/Users/{identity}", h(a.updateUser))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations", h(a.createConversation))
	rt.Handle("GET", "aim", svcPrefix+"/Conversations/{conv}", h(a.getConversation))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations/{conv}", h(a.updateConversation))
	rt.Handle("DELETE", "aim", svcPrefix+"/Conversations/{conv}", h(a.deleteConversation))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations/{conv}/Messages", h(a.createMessage))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations/{conv}/Messages/{msg}", h(a.updateMessage))
	rt.Handle("DELETE", "aim", svcPrefix+"/Conversations/{conv}/Messages/{msg}", h(a.deleteMessage))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations/{conv}/Participants", h(a.addParticipant))
	rt.Handle("POST", "aim", svcPrefix+"/Conversations/{conv}/Participants/{part}", h(a.updateParticipant))
	rt.Handle("DELETE", "aim", svcPrefix+"/Conversations/{conv}/Participants/{part}", h(a.removeParticipant))
	rt.Handle("POST", "aim", svcPrefix+"/Typing", h(a.typingIndicator))
}

// call is one request, scoped to the socket's principal.
type call struct {
	r     *gateway.Request
	sc    conv.Scope
	o     conv.WriteOptions
	p     gateway.Principal
	body  map[string]json.RawMessage
	form  url.Values
	param func(string) string
}

func (a *API) serve(ctx context.Context, r *gateway.Request, f func(context.Context, *call) *gateway.Response) *gateway.Response {
	p := r.Principal
	if r.PathParams["service"] != p.ServiceSid {
		return gateway.ErrorResponse(http.StatusNotFound, 20404, "The requested resource "+r.Path+" was not found")
	}
	c := &call{r: r, p: p, sc: conv.Scope{AccountSid: p.AccountSid, ServiceSid: p.ServiceSid},
		o: conv.WriteOptions{Source: conv.SourceSDK, ClientIdentity: p.Identity}}
	c.param = func(n string) string {
		v, _ := url.PathUnescape(r.PathParams[n])
		return v
	}
	if len(r.Body) > 0 {
		if strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") {
			form, err := url.ParseQuery(string(r.Body))
			if err != nil {
				return gateway.ErrorResponse(http.StatusBadRequest, 20001, "Invalid form body")
			}
			c.form = form
		} else if err := json.Unmarshal(r.Body, &c.body); err != nil {
			return gateway.ErrorResponse(http.StatusBadRequest, 20001, "Invalid JSON body")
		}
	}
	return f(ctx, c)
}

// str returns a JSON string field (nil when absent or null); ok is false when it is not a string.
func (c *call) str(name string) (*string, bool) {
	raw, found := c.body[name]
	if !found || string(raw) == "null" {
		return nil, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	return &s, true
}

func badField(name string) *gateway.Response {
	return gateway.ErrorResponse(http.StatusBadRequest, 20001, "Invalid parameter "+name)
}

// fail turns a domain error into a Twilio error response.
func fail(err error) *gateway.Response {
	var e *conv.Error
	if errors.As(err, &e) {
		status := map[conv.Kind]int{conv.KindInvalid: 400, conv.KindUnauthorized: 401, conv.KindForbidden: 403,
			conv.KindNotFound: 404, conv.KindMethodNotAllowed: 405, conv.KindConflict: 409, conv.KindTooLarge: 413,
			conv.KindNotImplemented: 501}[e.Kind]
		if status == 0 {
			status = 500
		}
		msg := e.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		return gateway.ErrorResponse(status, e.Code, msg)
	}
	if errors.Is(err, conv.ErrNotFound) {
		return gateway.ErrorResponse(404, 20404, "Not Found")
	}
	return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
}

func (a *API) links(p gateway.Principal) (base string) { return Base + p.ServiceSid }

func (a *API) configuration(ctx context.Context, r *gateway.Request) *gateway.Response {
	p := r.Principal
	sc := conv.Scope{AccountSid: p.AccountSid, ServiceSid: p.ServiceSid}
	// The user exists from its first login on (Twilio creates it then), with its user-info map.
	u, err := a.svc.FetchUser(ctx, sc, p.Identity)
	if err != nil {
		id := p.Identity
		u, err = a.svc.CreateUser(ctx, sc, conv.UserCreate{Identity: &id}, conv.WriteOptions{Source: conv.SourceSDK, ClientIdentity: p.Identity})
		var e *conv.Error
		if errors.As(err, &e) && e.Kind == conv.KindConflict {
			u, err = a.svc.FetchUser(ctx, sc, p.Identity)
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := a.users.EnsureUser(ctx, u); err != nil {
		return fail(err)
	}
	base := a.links(p)
	me := base + "/Users/" + url.PathEscape(p.Identity)
	return gateway.JSONResponse(http.StatusOK, map[string]any{
		"identity": p.Identity,
		"links": map[string]any{
			"my_conversations": me + "/Conversations", "conversations": base + "/Conversations",
			"users": base + "/Users", "current_user": me, "typing": base + "/Typing",
			"media_service":     "https://mcs.us1.twilio.com/v1/Services/" + p.ServiceSid + "/Media",
			"media_set_service": "https://mcs.us1.twilio.com/v1/Services/" + p.ServiceSid + "/MediaSet",
			"messages_receipts": base + "/Conversations/%s/Messages/%s/Receipts",
		},
		"options": map[string]any{
			"consumption_report_interval": "PT5S", "http_cache_interval": "PT5S", "reachability_enabled": false,
			"user_infos_to_subscribe": 100, "media_attachments_count_limit": 10, "media_attachment_size_limit_in_mb": 16,
			"media_attachments_total_size_limit_in_mb": 16, "email_histories_allowed_mime_types": []string{},
			"email_bodies_allowed_mime_types": []string{},
		},
		"sync_objects": map[string]any{
			"my_conversations": syncview.MyConversations(p.ServiceSid, p.Identity).Sid,
			"my_user_info":     syncview.UserInfo(p.ServiceSid, p.Identity).Sid,
		},
	})
}

func syncObjects(c *conv.Conversation) map[string]any {
	return map[string]any{
		"conversation": syncview.ConversationDoc(c.ServiceSid, c.Sid).Sid,
		"messages":     syncview.MessagesList(c.ServiceSid, c.Sid).Sid,
		"participants": syncview.Roster(c.ServiceSid, c.Sid).Sid,
	}
}

func myConversationJSON(uc *conv.UserConversation) map[string]any {
	c := uc.Conversation
	return map[string]any{
		"conversation_sid": c.Sid, "status": "joined", "sync_objects": syncObjects(c),
		"last_read_message_index": uc.Participant.LastReadMessageIndex, "notification_level": uc.NotificationLevel,
		"unread_messages_count": uc.UnreadMessagesCount, "friendly_name": c.FriendlyName, "unique_name": c.UniqueName,
		"attributes": c.Attributes, "date_created": c.DateCreated, "date_updated": c.DateUpdated, "created_by": "system",
	}
}

// own checks that {identity} is the caller.
func (c *call) own() *gateway.Response {
	if c.param("identity") != c.p.Identity {
		return gateway.ErrorResponse(http.StatusForbidden, 50107, "User not authorized to perform the requested action")
	}
	return nil
}

func (a *API) myConversations(ctx context.Context, c *call) *gateway.Response {
	if bad := c.own(); bad != nil {
		return bad
	}
	var out []any
	q := conv.PageQuery{Size: 100}
	for {
		ucs, err := a.svc.ListUserConversations(ctx, c.sc, c.p.Identity, q)
		if err != nil {
			var e *conv.Error
			if errors.As(err, &e) && e.Kind == conv.KindNotFound {
				break
			}
			return fail(err)
		}
		for _, uc := range ucs {
			out = append(out, myConversationJSON(uc))
		}
		if len(ucs) < q.Size {
			break
		}
		q.AfterSeq = ucs[len(ucs)-1].Participant.Seq
		q.Offset = 0
	}
	if out == nil {
		out = []any{}
	}
	return gateway.JSONResponse(http.StatusOK, map[string]any{"conversations": out, "meta": map[string]any{"next_token": nil}})
}

func (a *API) myConversation(ctx context.Context, c *call) *gateway.Response {
	if bad := c.own(); bad != nil {
		return bad
	}
	uc, err := a.svc.FetchUserConversation(ctx, c.sc, c.p.Identity, c.param("conv"))
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, myConversationJSON(uc))
}

func (a *API) updateMyConversation(ctx context.Context, c *call) *gateway.Response {
	if bad := c.own(); bad != nil {
		return bad
	}
	var in conv.UserConversationUpdate
	if raw, ok := c.body["last_read_message_index"]; ok {
		if string(raw) == "null" {
			in.LastReadMessageIndex = conv.Clear[int64]()
		} else {
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				return badField("last_read_message_index")
			}
			in.LastReadMessageIndex = conv.Set(n)
		}
	}
	nl, ok := c.str("notification_level")
	if !ok {
		return badField("notification_level")
	}
	in.NotificationLevel = nl
	uc, err := a.svc.UpdateUserConversation(ctx, c.sc, c.p.Identity, c.param("conv"), in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, myConversationJSON(uc))
}

func userJSON(u *conv.User) map[string]any {
	return map[string]any{
		"identity": u.Identity, "friendly_name": u.FriendlyName, "attributes": u.Attributes,
		"sync_objects": map[string]any{"user_info_map": syncview.UserInfo(u.ServiceSid, u.Identity).Sid},
	}
}

func (a *API) getUser(ctx context.Context, c *call) *gateway.Response {
	u, err := a.svc.FetchUser(ctx, c.sc, c.param("identity"))
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, userJSON(u))
}

func (a *API) updateUser(ctx context.Context, c *call) *gateway.Response {
	if bad := c.own(); bad != nil {
		return bad
	}
	var in conv.UserUpdate
	var ok bool
	if in.FriendlyName, ok = c.str("friendly_name"); !ok {
		return badField("friendly_name")
	}
	if in.Attributes, ok = c.str("attributes"); !ok {
		return badField("attributes")
	}
	if bad := a.require(ctx, c, "", "editOwnUserInfo"); bad != nil {
		return bad
	}
	u, err := a.svc.UpdateUser(ctx, c.sc, c.p.Identity, in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, userJSON(u))
}

func (a *API) conversationJSON(c *conv.Conversation) map[string]any {
	self := Base + c.ServiceSid + "/Conversations/" + c.Sid
	return map[string]any{
		"sid": c.Sid, "friendly_name": c.FriendlyName, "unique_name": c.UniqueName, "attributes": c.Attributes,
		"date_created": c.DateCreated, "date_updated": c.DateUpdated, "created_by": "system", "status": "notParticipating",
		"url": self, "links": map[string]any{"messages": self + "/Messages", "participants": self + "/Participants"},
		"sync_objects": syncObjects(c),
	}
}

func (c *call) conversationParams() (conv.ConversationParams, *gateway.Response) {
	var p conv.ConversationParams
	var ok bool
	for name, dst := range map[string]**string{"friendly_name": &p.FriendlyName, "unique_name": &p.UniqueName, "attributes": &p.Attributes} {
		if *dst, ok = c.str(name); !ok {
			return p, badField(name)
		}
	}
	return p, nil
}

func (a *API) createConversation(ctx context.Context, c *call) *gateway.Response {
	p, bad := c.conversationParams()
	if bad != nil {
		return bad
	}
	if bad := a.require(ctx, c, "", "createConversation"); bad != nil {
		return bad
	}
	cv, err := a.svc.CreateConversation(ctx, c.sc, p, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusCreated, a.conversationJSON(cv))
}

func (a *API) getConversation(ctx context.Context, c *call) *gateway.Response {
	cv, err := a.svc.FetchConversation(ctx, c.sc, c.param("conv"))
	if err != nil {
		return fail(err)
	}
	m := a.conversationJSON(cv)
	if ps, err := a.svc.ListParticipants(ctx, c.sc, cv.Sid, conv.PageQuery{Size: 1000}); err == nil {
		m["participants_count"] = len(ps)
		for _, p := range ps {
			if p.Identity != nil && *p.Identity == c.p.Identity {
				m["status"] = "joined"
			}
		}
	}
	return gateway.JSONResponse(http.StatusOK, m)
}

func (a *API) updateConversation(ctx context.Context, c *call) *gateway.Response {
	p, bad := c.conversationParams()
	if bad != nil {
		return bad
	}
	var need []string
	need = appendIf(need, p.FriendlyName != nil || p.UniqueName != nil, "editConversationName")
	need = appendIf(need, p.Attributes != nil, "editConversationAttributes")
	if bad := a.require(ctx, c, c.param("conv"), need...); bad != nil {
		return bad
	}
	cv, err := a.svc.UpdateConversation(ctx, c.sc, c.param("conv"), p, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, a.conversationJSON(cv))
}

func (a *API) deleteConversation(ctx context.Context, c *call) *gateway.Response {
	if bad := a.require(ctx, c, c.param("conv"), "deleteConversation"); bad != nil {
		return bad
	}
	if err := a.svc.DeleteConversation(ctx, c.sc, c.param("conv"), c.o); err != nil {
		return fail(err)
	}
	return &gateway.Response{Status: http.StatusNoContent}
}

func messageJSON(m *conv.Message) map[string]any {
	return map[string]any{"sid": m.Sid, "index": m.Index, "author": m.Author, "body": m.Body, "attributes": m.Attributes,
		"participant_sid": m.ParticipantSid, "date_created": m.DateCreated, "date_updated": m.DateUpdated}
}

func (a *API) createMessage(ctx context.Context, c *call) *gateway.Response {
	var in conv.MessageCreate
	var ok bool
	if in.Body, ok = c.str("body"); !ok {
		return badField("body")
	}
	if in.Attributes, ok = c.str("attributes"); !ok {
		return badField("attributes")
	}
	if in.Subject, ok = c.str("subject"); !ok {
		return badField("subject")
	}
	if _, found := c.body["media_sids"]; found {
		return gateway.ErrorResponse(http.StatusNotImplemented, 20501, "Media messages are not supported by Parley's client API")
	}
	if bad := a.requireMember(ctx, c, c.param("conv"), "sendMessage"); bad != nil {
		return bad
	}
	author := c.p.Identity
	in.Author = &author
	m, err := a.svc.CreateMessage(ctx, c.sc, c.param("conv"), in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusCreated, messageJSON(m))
}

func (a *API) updateMessage(ctx context.Context, c *call) *gateway.Response {
	var in conv.MessageUpdate
	var ok bool
	if in.Body, ok = c.str("body"); !ok {
		return badField("body")
	}
	if in.Attributes, ok = c.str("attributes"); !ok {
		return badField("attributes")
	}
	var own, anyone []string
	own = appendIf(own, in.Body != nil, "editOwnMessage")
	own = appendIf(own, in.Attributes != nil, "editOwnMessageAttributes")
	anyone = appendIf(anyone, in.Body != nil, "editAnyMessage")
	anyone = appendIf(anyone, in.Attributes != nil, "editAnyMessageAttributes")
	if bad := a.requireOnMessage(ctx, c, c.param("conv"), c.param("msg"), own, anyone); bad != nil {
		return bad
	}
	m, err := a.svc.UpdateMessage(ctx, c.sc, c.param("conv"), c.param("msg"), in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, messageJSON(m))
}

func (a *API) deleteMessage(ctx context.Context, c *call) *gateway.Response {
	if bad := a.requireOnMessage(ctx, c, c.param("conv"), c.param("msg"), []string{"deleteOwnMessage"}, []string{"deleteAnyMessage"}); bad != nil {
		return bad
	}
	if err := a.svc.DeleteMessage(ctx, c.sc, c.param("conv"), c.param("msg"), c.o); err != nil {
		return fail(err)
	}
	return &gateway.Response{Status: http.StatusNoContent}
}

func participantJSON(p *conv.Participant) map[string]any {
	return map[string]any{"sid": p.Sid, "identity": p.Identity, "attributes": p.Attributes, "conversation_sid": p.ConversationSid,
		"date_created": p.DateCreated, "date_updated": p.DateUpdated}
}

func (a *API) addParticipant(ctx context.Context, c *call) *gateway.Response {
	var in conv.ParticipantCreate
	var ok bool
	if in.Identity, ok = c.str("identity"); !ok {
		return badField("identity")
	}
	if in.Attributes, ok = c.str("attributes"); !ok {
		return badField("attributes")
	}
	if raw, found := c.body["messaging_binding"]; found && string(raw) != "null" {
		var b struct {
			Address      *string `json:"address"`
			ProxyAddress *string `json:"proxy_address"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return badField("messaging_binding")
		}
		in.Address, in.ProxyAddress = b.Address, b.ProxyAddress
	}
	need := "addParticipant"
	if in.Identity != nil && *in.Identity == c.p.Identity {
		need = "joinConversation"
	}
	if bad := a.require(ctx, c, c.param("conv"), need); bad != nil {
		return bad
	}
	p, err := a.svc.CreateParticipant(ctx, c.sc, c.param("conv"), in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusCreated, participantJSON(p))
}

func (a *API) updateParticipant(ctx context.Context, c *call) *gateway.Response {
	var in conv.ParticipantUpdate
	var ok bool
	if in.Attributes, ok = c.str("attributes"); !ok {
		return badField("attributes")
	}
	self, bad := a.isSelf(ctx, c, c.param("conv"), c.param("part"))
	if bad != nil {
		return bad
	}
	if self {
		bad = a.requireMember(ctx, c, c.param("conv"))
	} else {
		bad = a.require(ctx, c, c.param("conv"), "editAnyUserInfo")
	}
	if bad != nil {
		return bad
	}
	p, err := a.svc.UpdateParticipant(ctx, c.sc, c.param("conv"), c.param("part"), in, c.o)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusOK, participantJSON(p))
}

func (a *API) removeParticipant(ctx context.Context, c *call) *gateway.Response {
	self, bad := a.isSelf(ctx, c, c.param("conv"), c.param("part"))
	if bad != nil {
		return bad
	}
	if self {
		bad = a.requireMember(ctx, c, c.param("conv"), "leaveConversation")
	} else {
		bad = a.require(ctx, c, c.param("conv"), "removeParticipant")
	}
	if bad != nil {
		return bad
	}
	if err := a.svc.DeleteParticipant(ctx, c.sc, c.param("conv"), c.param("part"), c.o); err != nil {
		return fail(err)
	}
	return &gateway.Response{Status: http.StatusNoContent}
}

// TypingTimeout is the typing_timeout (seconds) Parley announces.
const TypingTimeout = 5

func (a *API) typingIndicator(ctx context.Context, c *call) *gateway.Response {
	ch := c.form.Get("ChannelSid")
	if ch == "" {
		return gateway.ErrorResponse(http.StatusBadRequest, 20001, "Missing required parameter ChannelSid")
	}
	cv, err := a.svc.FetchConversation(ctx, c.sc, ch)
	if err != nil {
		return fail(err)
	}
	ps, err := a.svc.ListParticipants(ctx, c.sc, cv.Sid, conv.PageQuery{Size: 1000})
	if err != nil {
		return fail(err)
	}
	member := false
	for _, p := range ps {
		member = member || (p.Identity != nil && *p.Identity == c.p.Identity)
	}
	if !member {
		return gateway.ErrorResponse(http.StatusForbidden, 50400, "User not participant of conversation")
	}
	payload, _ := json.Marshal(map[string]any{"channel_sid": cv.Sid, "identity": c.p.Identity, "typing_timeout": TypingTimeout})
	for _, p := range ps {
		if p.Identity != nil && *p.Identity != c.p.Identity && a.typing != nil {
			a.typing.Notify(c.p.AccountSid, c.p.ServiceSid, *p.Identity, "twilio.ipmsg.typing_indicator", payload)
		}
	}
	return gateway.JSONResponse(http.StatusOK, map[string]any{"typing_timeout": TypingTimeout})
}
