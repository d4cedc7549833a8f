package gateway

import "sync"

// Hub is an in-memory Sessions registry keyed by (account, service, identity): the fan-out
// point for pushes to a user's sockets (typing indicators; later Sync events). It holds no
// state beyond the live sockets of this process.
type Hub struct {
	mu sync.RWMutex
	by map[hubKey]map[*Session]struct{}
}

type hubKey struct{ account, service, identity string }

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{by: map[hubKey]map[*Session]struct{}{}} }

func keyOf(p Principal) hubKey { return hubKey{p.AccountSid, p.ServiceSid, p.Identity} }

// Attach implements Sessions. A socket's key cannot change: update refuses another
// account, service or identity.
func (h *Hub) Attach(s *Session) {
	k := keyOf(s.Principal())
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.by[k]
	if set == nil {
		set = map[*Session]struct{}{}
		h.by[k] = set
	}
	set[s] = struct{}{}
}

// Detach implements Sessions.
func (h *Hub) Detach(s *Session) {
	k := keyOf(s.Principal())
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.by[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.by, k)
		}
	}
}

// Sessions returns the live sockets of identity in the account's service.
func (h *Hub) Sessions(accountSid, serviceSid, identity string) []*Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	set := h.by[hubKey{accountSid, serviceSid, identity}]
	out := make([]*Session, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

// Notify pushes a notification to every socket of identity and returns how many accepted it.
// It never blocks: a socket too far behind is disconnected instead (see Session.Notify).
func (h *Hub) Notify(accountSid, serviceSid, identity, messageType string, payload []byte) int {
	n := 0
	for _, s := range h.Sessions(accountSid, serviceSid, identity) {
		if s.Notify(messageType, payload) == nil {
			n++
		}
	}
	return n
}
