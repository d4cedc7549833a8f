package syncview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Projector writes the Sync view of every change inside the change's own transaction (it is
// the conv.ChangeRecorder of the Service): objects and items are upserted and one event row
// per changed object appended, so a committed change always has its events and an event is
// never visible before its data.
type Projector struct {
	now func() time.Time
}

// NewProjector returns a projector dating events with now (nil: time.Now).
func NewProjector(now func() time.Time) *Projector {
	if now == nil {
		now = time.Now
	}
	return &Projector{now: now}
}

var _ conv.ChangeRecorder = (*Projector)(nil)

// errNoView is returned when the transaction's store cannot hold the view.
var errNoView = errors.New("syncview: the store does not implement syncview.Store")

// RecordChanges implements conv.ChangeRecorder.
func (p *Projector) RecordChanges(ctx context.Context, tx conv.Store, events []conv.Event) error {
	st, ok := tx.(Store)
	if !ok {
		return errNoView
	}
	w := &writer{st: st, now: p.now().UTC().Truncate(time.Second)}
	for i := range events {
		if err := w.apply(ctx, &events[i]); err != nil {
			return fmt.Errorf("syncview: %s: %w", events[i].Type, err)
		}
	}
	return st.NotifySyncChange(ctx)
}

// writer applies events to the view within one transaction.
type writer struct {
	st  Store
	now time.Time
}

func (w *writer) apply(ctx context.Context, e *conv.Event) error {
	c := e.Conversation
	switch e.Type {
	case conv.EventConversationAdded, conv.EventConversationUpdated, conv.EventConversationStateUpdated:
		return w.putConversation(ctx, c)
	case conv.EventConversationRemoved:
		return w.removeConversation(ctx, c)
	case conv.EventParticipantAdded, conv.EventParticipantUpdated:
		if err := w.ensureConversation(ctx, c); err != nil {
			return err
		}
		return w.putParticipant(ctx, c, e.Participant)
	case conv.EventParticipantRemoved:
		return w.removeParticipant(ctx, c, e.Participant)
	case conv.EventMessageAdded, conv.EventMessageUpdated:
		if err := w.ensureConversation(ctx, c); err != nil {
			return err
		}
		if _, err := w.putItem(ctx, c.AccountSid, MessagesList(c.ServiceSid, c.Sid), c.ServiceSid, strconv.FormatInt(e.Message.Index, 10), e.Message.Index, MessageData(e.Message)); err != nil {
			return err
		}
		if e.Type == conv.EventMessageAdded {
			return w.setLastMessage(ctx, c, e.Message)
		}
		return nil
	case conv.EventMessageRemoved:
		return w.removeItem(ctx, MessagesList(c.ServiceSid, c.Sid), c.ServiceSid, strconv.FormatInt(e.Message.Index, 10))
	case conv.EventUserAdded, conv.EventUserUpdated:
		return w.putUser(ctx, e.User)
	}
	return nil
}

// ---- data shapes the SDK reads ----

func attrs(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// conversationData is the conversation document's data (lastMessage kept from prev).
func conversationData(c *conv.Conversation, lastMessage any) json.RawMessage {
	d := map[string]any{
		"friendlyName": c.FriendlyName, "uniqueName": c.UniqueName, "attributes": attrs(c.Attributes),
		"createdBy": "system", "dateCreated": iso(c.DateCreated), "dateUpdated": iso(c.DateUpdated),
		"messages": MessagesList(c.ServiceSid, c.Sid).Sid, "roster": Roster(c.ServiceSid, c.Sid).Sid,
		"state":    map[string]any{"current": c.State, "dateUpdated": iso(c.DateUpdated)},
		"bindings": map[string]any{},
	}
	if lastMessage != nil {
		d["lastMessage"] = lastMessage
	}
	b, _ := json.Marshal(d)
	return b
}

// MessageData is a messages list item's data.
func MessageData(m *conv.Message) json.RawMessage {
	d := map[string]any{
		"sid": m.Sid, "author": m.Author, "text": m.Body, "timestamp": iso(m.DateCreated), "dateUpdated": iso(m.DateUpdated),
		"lastUpdatedBy": nil, "attributes": attrs(m.Attributes), "type": "text",
	}
	if m.ParticipantSid != "" {
		d["memberSid"] = m.ParticipantSid
	}
	if m.Subject != "" {
		d["subject"] = m.Subject
	}
	if m.ContentSid != "" {
		d["contentSid"] = m.ContentSid
	}
	b, _ := json.Marshal(d)
	return b
}

// RosterData is a roster map item's data.
func RosterData(p *conv.Participant) json.RawMessage {
	d := map[string]any{
		"attributes": attrs(p.Attributes), "dateCreated": iso(p.DateCreated), "dateUpdated": iso(p.DateUpdated),
		"roleSid": p.RoleSid, "lastConsumedMessageIndex": p.LastReadMessageIndex, "lastConsumptionTimestamp": p.LastReadTimestamp,
		"sid": p.Sid,
	}
	if p.Identity != nil {
		d["identity"], d["type"] = *p.Identity, "chat"
		d["userInfo"] = nil
	} else {
		d["type"] = "sms"
		if p.Binding != nil && len(p.Binding.Type) > 0 {
			d["type"] = p.Binding.Type
		}
		d["bindings"] = map[string]any{}
	}
	b, _ := json.Marshal(d)
	return b
}

func myConversationData(c *conv.Conversation, p *conv.Participant) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"status": "joined", "channel": ConversationDoc(c.ServiceSid, c.Sid).Sid,
		"messages": MessagesList(c.ServiceSid, c.Sid).Sid, "roster": Roster(c.ServiceSid, c.Sid).Sid,
		"lastConsumedMessageIndex": p.LastReadMessageIndex, "notificationLevel": "default",
	})
	return b
}

func valueData(v any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"value": v})
	return b
}

// ---- object and item writes ----

// object loads r, creating it (revision 0, no event) when create is set.
func (w *writer) object(ctx context.Context, accountSid, serviceSid string, r Ref, create bool, data json.RawMessage) (*Object, bool, error) {
	o, err := w.st.SyncObject(ctx, serviceSid, r.Sid)
	if err == nil {
		return o, false, nil
	}
	if !errors.Is(err, conv.ErrNotFound) || !create {
		return nil, false, err
	}
	if data == nil {
		data = json.RawMessage("{}")
	}
	o = &Object{Sid: r.Sid, AccountSid: accountSid, ServiceSid: serviceSid, Kind: r.Kind, UniqueName: r.UniqueName,
		Data: data, DateCreated: w.now, DateUpdated: w.now}
	if err := w.st.CreateSyncObject(ctx, o); err != nil {
		return nil, false, err
	}
	o, err = w.st.SyncObject(ctx, serviceSid, r.Sid) // locked, whoever created it
	return o, true, err
}

// bump advances o by one event of typ with payload fields (id, revision and date added).
func (w *writer) bump(ctx context.Context, o *Object, typ string, fields map[string]any) error {
	o.Revision++
	o.LastEventID++
	o.DateUpdated = w.now
	if err := w.st.PutSyncObject(ctx, o); err != nil {
		return err
	}
	fields["id"] = o.LastEventID
	fields["date_created"] = iso(w.now)
	switch o.Kind {
	case KindDocument:
		fields["document_sid"] = o.Sid
		if typ != "document_removed" {
			fields["document_revision"] = strconv.FormatInt(o.Revision, 10)
		}
	case KindList:
		fields["list_sid"] = o.Sid
		fields["list_revision"] = strconv.FormatInt(o.Revision, 10)
	case KindMap:
		fields["map_sid"] = o.Sid
		fields["map_revision"] = strconv.FormatInt(o.Revision, 10)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return w.st.AppendSyncEvent(ctx, &Event{ObjectSid: o.Sid, ID: o.LastEventID, Type: typ, Payload: b, DateCreated: w.now})
}

func (w *writer) putItem(ctx context.Context, accountSid string, r Ref, serviceSid, key string, index int64, data json.RawMessage) (*Object, error) {
	o, _, err := w.object(ctx, accountSid, serviceSid, r, true, nil)
	if err != nil {
		return nil, err
	}
	it, err := w.st.SyncItem(ctx, o.Sid, key)
	added := errors.Is(err, conv.ErrNotFound)
	if err != nil && !added {
		return nil, err
	}
	if !added && string(it.Data) == string(data) {
		return o, nil // nothing the SDK sees changed
	}
	if added {
		it = &Item{ObjectSid: o.Sid, Key: key, Index: index, DateCreated: w.now}
	}
	it.Data, it.Revision, it.LastEventID, it.DateUpdated = data, o.Revision+1, o.LastEventID+1, w.now
	if err := w.st.PutSyncItem(ctx, it); err != nil {
		return nil, err
	}
	typ := o.Kind + "_item_updated"
	if added {
		typ = o.Kind + "_item_added"
	}
	f := map[string]any{"item_data": data, "item_revision": strconv.FormatInt(it.Revision, 10),
		"item_url": itemsURL(serviceSid, o.Kind, o.Sid) + "/" + key}
	if o.Kind == KindList {
		f["item_index"] = index
	} else {
		f["item_key"] = key
	}
	return o, w.bump(ctx, o, typ, f)
}

func (w *writer) removeItem(ctx context.Context, r Ref, serviceSid, key string) error {
	o, _, err := w.object(ctx, "", serviceSid, r, false, nil)
	if errors.Is(err, conv.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	it, err := w.st.SyncItem(ctx, o.Sid, key)
	if errors.Is(err, conv.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := w.st.DeleteSyncItem(ctx, o.Sid, key); err != nil {
		return err
	}
	f := map[string]any{"item_data": it.Data}
	if o.Kind == KindList {
		f["item_index"] = it.Index
	} else {
		f["item_key"] = key
	}
	return w.bump(ctx, o, o.Kind+"_item_removed", f)
}

func (w *writer) setDocument(ctx context.Context, o *Object, data json.RawMessage) error {
	if string(o.Data) == string(data) {
		return nil
	}
	o.Data = data
	return w.bump(ctx, o, "document_updated", map[string]any{"document_data": data})
}

// ---- conversations ----

// ensureConversation creates the conversation's objects when they do not exist yet. Objects
// created for a conversation that already has participants or messages (data older than the
// view, or a restored snapshot) are filled from the store, without events: that is their
// initial state.
func (w *writer) ensureConversation(ctx context.Context, c *conv.Conversation) error {
	doc, created, err := w.object(ctx, c.AccountSid, c.ServiceSid, ConversationDoc(c.ServiceSid, c.Sid), true, conversationData(c, nil))
	if err != nil {
		return err
	}
	list, listCreated, err := w.object(ctx, c.AccountSid, c.ServiceSid, MessagesList(c.ServiceSid, c.Sid), true, nil)
	if err != nil {
		return err
	}
	if listCreated {
		var last *conv.Message
		q := conv.MessageQuery{PageQuery: conv.PageQuery{Size: 500}}
		for {
			ms, err := w.st.ListMessages(ctx, c.Sid, q)
			if err != nil {
				return err
			}
			for _, m := range ms {
				k := strconv.FormatInt(m.Index, 10)
				if err := w.st.PutSyncItem(ctx, &Item{ObjectSid: list.Sid, Key: k, Index: m.Index, Data: MessageData(m),
					DateCreated: w.now, DateUpdated: w.now}); err != nil {
					return err
				}
				last = m
			}
			if len(ms) < q.Size {
				break
			}
			q.AfterSeq, q.Offset = ms[len(ms)-1].Seq, 0
		}
		if last != nil && created {
			doc.Data = conversationData(c, map[string]any{"index": last.Index, "timestamp": iso(last.DateCreated)})
			if err := w.st.PutSyncObject(ctx, doc); err != nil {
				return err
			}
		}
	}
	roster, rosterCreated, err := w.object(ctx, c.AccountSid, c.ServiceSid, Roster(c.ServiceSid, c.Sid), true, nil)
	if err != nil || !rosterCreated {
		return err
	}
	q := conv.PageQuery{Size: 500}
	for {
		ps, err := w.st.ListParticipants(ctx, c.Sid, q)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := w.st.PutSyncItem(ctx, &Item{ObjectSid: roster.Sid, Key: p.Sid, Data: RosterData(p),
				DateCreated: w.now, DateUpdated: w.now}); err != nil {
				return err
			}
		}
		if len(ps) < q.Size {
			return nil
		}
		q.AfterSeq, q.Offset = ps[len(ps)-1].Seq, 0
	}
}

func lastMessageOf(o *Object) any {
	var d struct {
		LastMessage json.RawMessage `json:"lastMessage"`
	}
	if json.Unmarshal(o.Data, &d) != nil || len(d.LastMessage) == 0 {
		return nil
	}
	return d.LastMessage
}

func (w *writer) putConversation(ctx context.Context, c *conv.Conversation) error {
	if err := w.ensureConversation(ctx, c); err != nil {
		return err
	}
	o, _, err := w.object(ctx, c.AccountSid, c.ServiceSid, ConversationDoc(c.ServiceSid, c.Sid), false, nil)
	if err != nil {
		return err
	}
	return w.setDocument(ctx, o, conversationData(c, lastMessageOf(o)))
}

func (w *writer) setLastMessage(ctx context.Context, c *conv.Conversation, m *conv.Message) error {
	o, _, err := w.object(ctx, c.AccountSid, c.ServiceSid, ConversationDoc(c.ServiceSid, c.Sid), false, nil)
	if err != nil {
		return err
	}
	return w.setDocument(ctx, o, conversationData(c, map[string]any{"index": m.Index, "timestamp": iso(m.DateCreated)}))
}

func (w *writer) removeConversation(ctx context.Context, c *conv.Conversation) error {
	roster := Roster(c.ServiceSid, c.Sid)
	var from *string
	for {
		items, err := w.st.ListSyncItems(ctx, roster.Sid, ItemQuery{From: from, Limit: 100})
		if err != nil {
			return err
		}
		for _, it := range items {
			var d struct {
				Identity *string `json:"identity"`
			}
			if json.Unmarshal(it.Data, &d) == nil && d.Identity != nil {
				if err := w.removeItem(ctx, MyConversations(c.ServiceSid, *d.Identity), c.ServiceSid, c.Sid); err != nil {
					return err
				}
			}
		}
		if len(items) < 100 {
			break
		}
		next := items[len(items)-1].Key + "\x00"
		from = &next
	}
	for _, r := range []Ref{ConversationDoc(c.ServiceSid, c.Sid), MessagesList(c.ServiceSid, c.Sid), roster} {
		o, _, err := w.object(ctx, c.AccountSid, c.ServiceSid, r, false, nil)
		if errors.Is(err, conv.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := w.bump(ctx, o, o.Kind+"_removed", map[string]any{}); err != nil {
			return err
		}
		if err := w.st.DeleteSyncObject(ctx, o.Sid); err != nil {
			return err
		}
	}
	return nil
}

// ---- participants and users ----

func (w *writer) putParticipant(ctx context.Context, c *conv.Conversation, p *conv.Participant) error {
	if _, err := w.putItem(ctx, c.AccountSid, Roster(c.ServiceSid, c.Sid), c.ServiceSid, p.Sid, 0, RosterData(p)); err != nil {
		return err
	}
	if p.Identity == nil {
		return nil
	}
	_, err := w.putItem(ctx, c.AccountSid, MyConversations(c.ServiceSid, *p.Identity), c.ServiceSid, c.Sid, 0, myConversationData(c, p))
	return err
}

func (w *writer) removeParticipant(ctx context.Context, c *conv.Conversation, p *conv.Participant) error {
	if err := w.removeItem(ctx, Roster(c.ServiceSid, c.Sid), c.ServiceSid, p.Sid); err != nil {
		return err
	}
	if p.Identity == nil {
		return nil
	}
	return w.removeItem(ctx, MyConversations(c.ServiceSid, *p.Identity), c.ServiceSid, c.Sid)
}

func (w *writer) putUser(ctx context.Context, u *conv.User) error {
	if u == nil {
		return nil
	}
	r := UserInfo(u.ServiceSid, u.Identity)
	if _, err := w.putItem(ctx, u.AccountSid, r, u.ServiceSid, "friendlyName", 0, valueData(u.FriendlyName)); err != nil {
		return err
	}
	_, err := w.putItem(ctx, u.AccountSid, r, u.ServiceSid, "attributes", 0, valueData(attrs(u.Attributes)))
	return err
}

// EnsureUser creates identity's my-conversations map and user-info map when they do not exist
// yet (a user who logs in before any change concerned them, or whose data predates the view).
func (v *View) EnsureUser(ctx context.Context, u *conv.User) error {
	return v.st.WithTx(ctx, func(tx conv.Store) error {
		st, ok := tx.(Store)
		if !ok {
			return errNoView
		}
		w := &writer{st: st, now: v.now().UTC().Truncate(time.Second)}
		mine, created, err := w.object(ctx, u.AccountSid, u.ServiceSid, MyConversations(u.ServiceSid, u.Identity), true, nil)
		if err != nil {
			return err
		}
		if created { // memberships older than the view: the map's initial state, without events
			q := conv.PageQuery{Size: 500}
			for {
				ms, err := st.ListUserMemberships(ctx, u.ServiceSid, u.Identity, q)
				if err != nil {
					return err
				}
				for _, m := range ms {
					if err := w.ensureConversation(ctx, m.Conversation); err != nil {
						return err
					}
					if err := st.PutSyncItem(ctx, &Item{ObjectSid: mine.Sid, Key: m.Conversation.Sid,
						Data: myConversationData(m.Conversation, m.Participant), DateCreated: w.now, DateUpdated: w.now}); err != nil {
						return err
					}
				}
				if len(ms) < q.Size {
					break
				}
				q.AfterSeq, q.Offset = ms[len(ms)-1].Seq, 0
			}
		}
		if _, err := st.SyncItem(ctx, UserInfo(u.ServiceSid, u.Identity).Sid, "attributes"); err == nil {
			return nil
		}
		return w.putUser(ctx, u)
	})
}
