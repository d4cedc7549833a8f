package syncview

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
)

// Register adds the cds routes (objects, items, subscriptions) to rt.
func (v *View) Register(rt *gateway.Router) {
	for _, c := range []string{"Documents", "Lists", "Maps"} {
		rt.Handle("GET", "cds", "/v3/"+c+"/{id}", gateway.UpstreamFunc(v.getObject))
		rt.Handle("GET", "cds", "/v3/Services/{service}/"+c+"/{id}", gateway.UpstreamFunc(v.getObject))
		rt.Handle("GET", "cds", "/v3/Services/{service}/"+c+"/{id}/Items", gateway.UpstreamFunc(v.listItems))
		rt.Handle("GET", "cds", "/v3/Services/{service}/"+c+"/{id}/Items/{key}", gateway.UpstreamFunc(v.getItem))
	}
	rt.Handle("POST", "cds", "/v4/Subscriptions", gateway.UpstreamFunc(v.subscriptions))
}

// View serves the Sync view to SDK sockets.
type View struct {
	st  Store
	fan *Fanout
	now func() time.Time
}

// New returns the view over st, fanning events out with fan.
func New(st Store, fan *Fanout) *View { return &View{st: st, fan: fan, now: time.Now} }

// SetClock sets the time source of the objects the view creates (default time.Now).
func (v *View) SetClock(now func() time.Time) { v.now = now }

func notFound() *gateway.Response {
	return gateway.ErrorResponse(http.StatusNotFound, 54100, "The requested resource was not found")
}

// visible returns the object ref names when the principal may read it: the user's own
// objects, any user's user info, any conversation's document, and the messages and roster of
// conversations the user is a participant of. Objects of other accounts and services are
// never found.
func (v *View) visible(ctx context.Context, p gateway.Principal, ref string) (*Object, error) {
	o, err := v.st.SyncObject(ctx, p.ServiceSid, ref)
	if err != nil {
		return nil, err
	}
	if o.AccountSid != p.AccountSid {
		return nil, conv.ErrNotFound
	}
	convSid, identity := owner(o.UniqueName)
	switch {
	case identity != "":
		if strings.HasPrefix(o.UniqueName, "user_info:") || identity == p.Identity {
			return o, nil
		}
	case convSid != "" && o.Kind == KindDocument:
		return o, nil // any user of the service may read a conversation (peek, then join)
	case convSid != "":
		if _, err := v.st.SyncItem(ctx, MyConversations(p.ServiceSid, p.Identity).Sid, convSid); err == nil {
			return o, nil
		} else if !errors.Is(err, conv.ErrNotFound) {
			return nil, err
		}
	}
	return nil, conv.ErrNotFound
}

func (v *View) lookup(ctx context.Context, r *gateway.Request) (*Object, *gateway.Response) {
	if s := r.PathParams["service"]; s != "" && s != r.Principal.ServiceSid {
		return nil, notFound()
	}
	kind := kindOfCollection(strings.Split(strings.TrimPrefix(r.Path, "/v3/"), "/")[0])
	if kind == "" {
		kind = kindOfCollection(strings.Split(r.Path, "/")[4])
	}
	o, err := v.visible(ctx, r.Principal, r.PathParams["id"])
	if errors.Is(err, conv.ErrNotFound) || (err == nil && o.Kind != kind) {
		return nil, notFound()
	}
	if err != nil {
		return nil, gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
	}
	return o, nil
}

func objectJSON(o *Object) map[string]any {
	m := map[string]any{
		"sid": o.Sid, "unique_name": o.UniqueName, "url": objectURL(o.ServiceSid, o.Kind, o.Sid),
		"revision": strconv.FormatInt(o.Revision, 10), "last_event_id": o.LastEventID,
		"date_created": iso(o.DateCreated), "date_updated": iso(o.DateUpdated), "date_expires": nil,
		"account_sid": o.AccountSid, "service_sid": o.ServiceSid,
	}
	if o.Kind == KindDocument {
		m["data"] = o.Data
	} else {
		m["links"] = map[string]any{"items": itemsURL(o.ServiceSid, o.Kind, o.Sid)}
	}
	return m
}

func itemJSON(o *Object, it *Item) map[string]any {
	m := map[string]any{
		"url": itemsURL(o.ServiceSid, o.Kind, o.Sid) + "/" + it.Key, "revision": strconv.FormatInt(it.Revision, 10),
		"last_event_id": it.LastEventID, "data": it.Data, "date_created": iso(it.DateCreated),
		"date_updated": iso(it.DateUpdated), "date_expires": nil,
	}
	if o.Kind == KindList {
		m["index"] = it.Index
	} else {
		m["key"] = it.Key
	}
	return m
}

func (v *View) getObject(ctx context.Context, r *gateway.Request) *gateway.Response {
	o, bad := v.lookup(ctx, r)
	if bad != nil {
		return bad
	}
	m := objectJSON(o)
	if o.Kind == KindMap && param(r, "Include") == "items" {
		items, err := v.st.ListSyncItems(ctx, o.Sid, ItemQuery{Limit: 100})
		if err != nil {
			return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			out = append(out, itemJSON(o, it))
		}
		m["items"] = out
	}
	return gateway.JSONResponse(http.StatusOK, m)
}

func param(r *gateway.Request, name string) string {
	for k, v := range r.Params {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (v *View) getItem(ctx context.Context, r *gateway.Request) *gateway.Response {
	o, bad := v.lookup(ctx, r)
	if bad != nil {
		return bad
	}
	it, err := v.st.SyncItem(ctx, o.Sid, r.PathParams["key"])
	if errors.Is(err, conv.ErrNotFound) {
		return gateway.ErrorResponse(http.StatusNotFound, 54201, "The specified Item does not exist")
	}
	if err != nil {
		return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
	}
	return gateway.JSONResponse(http.StatusOK, itemJSON(o, it))
}

// pageToken is the opaque PageToken: the direction and the key the page starts after.
type pageToken struct {
	After string `json:"a"`
	Desc  bool   `json:"d"`
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (v *View) listItems(ctx context.Context, r *gateway.Request) *gateway.Response {
	o, bad := v.lookup(ctx, r)
	if bad != nil {
		return bad
	}
	byIndex := o.Kind == KindList
	q := ItemQuery{ByIndex: byIndex, Limit: 50}
	if s := param(r, "PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return gateway.ErrorResponse(http.StatusBadRequest, 54010, "Invalid PageSize")
		}
		q.Limit = min(n, 100)
	}
	switch strings.ToLower(param(r, "Order")) {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return gateway.ErrorResponse(http.StatusBadRequest, 54011, "Invalid Order")
	}
	from, after := param(r, "From"), false
	if tok := param(r, "PageToken"); tok != "" {
		var t pageToken
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || json.Unmarshal(b, &t) != nil {
			return gateway.ErrorResponse(http.StatusBadRequest, 20001, "Invalid PageToken")
		}
		from, q.Desc, after = t.After, t.Desc, true
	}
	key := param(r, "Key")
	if key == "" {
		key = param(r, "Index")
	}
	var items []*Item
	hasNext, hasPrev := false, false
	if key != "" {
		it, err := v.st.SyncItem(ctx, o.Sid, key)
		if err != nil && !errors.Is(err, conv.ErrNotFound) {
			return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
		}
		if it != nil {
			items = []*Item{it}
		}
	} else {
		if from != "" {
			if byIndex {
				n, err := strconv.ParseInt(from, 10, 64)
				if err != nil {
					return gateway.ErrorResponse(http.StatusBadRequest, 54011, "Invalid From")
				}
				q.FromIndex = &n
			} else {
				q.From = &from
			}
		}
		want := q.Limit
		q.Limit += 2
		var err error
		items, err = v.st.ListSyncItems(ctx, o.Sid, q)
		if err != nil {
			return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
		}
		if after && len(items) > 0 && items[0].Key == from {
			items = items[1:]
		}
		if len(items) > want {
			hasNext, items = true, items[:want]
		}
		if from != "" {
			rq := q
			rq.Desc, rq.Limit = !q.Desc, 2
			before, err := v.st.ListSyncItems(ctx, o.Sid, rq)
			if err != nil {
				return gateway.ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
			}
			for _, it := range before {
				if it.Key != from {
					hasPrev = true
				}
			}
		}
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		out = append(out, itemJSON(o, it))
	}
	meta := map[string]any{"next_token": nil, "previous_token": nil}
	if hasNext {
		meta["next_token"] = encodeToken(pageToken{After: items[len(items)-1].Key, Desc: q.Desc})
	}
	if hasPrev && len(items) > 0 {
		meta["previous_token"] = encodeToken(pageToken{After: items[0].Key, Desc: !q.Desc})
	}
	return gateway.JSONResponse(http.StatusOK, map[string]any{"items": out, "meta": meta})
}

// subscriptionsRequest is the body of POST /v4/Subscriptions.
type subscriptionsRequest struct {
	Action        string `json:"action"`
	CorrelationID any    `json:"correlation_id"`
	Requests      []struct {
		ObjectSid   string `json:"object_sid"`
		ObjectType  string `json:"object_type"`
		LastEventID *int64 `json:"last_event_id"`
	} `json:"requests"`
}

func (v *View) subscriptions(ctx context.Context, r *gateway.Request) *gateway.Response {
	var req subscriptionsRequest
	if err := json.Unmarshal(r.Body, &req); err != nil || (req.Action != "establish" && req.Action != "cancel") || len(req.Requests) > 100 {
		return gateway.ErrorResponse(http.StatusBadRequest, 54007, "Invalid subscription request")
	}
	if r.Session == nil {
		return gateway.ErrorResponse(http.StatusBadRequest, 54007, "Subscriptions need a socket")
	}
	for _, q := range req.Requests {
		if q.ObjectSid == "" {
			return gateway.ErrorResponse(http.StatusBadRequest, 54007, "Invalid subscription request: object_sid is required")
		}
	}
	// The confirmations (after any replay) are queued before this reply; the client has
	// recorded the correlation id before sending the request, so it accepts them.
	v.fan.handle(ctx, v, r.Session, req)
	return gateway.JSONResponse(http.StatusAccepted, map[string]any{"estimated_delivery_in_ms": 1000, "max_batch_size": 100, "ttl_in_s": -1})
}
