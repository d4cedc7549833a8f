// Package delivery makes Parley's message deliveries: a Dispatcher hands deliveries to SMS,
// WhatsApp and other non-chat recipients to a Carrier (the Outbox log by default, or a
// Forwarder that POSTs them to a configured URL), with leases, retries and back-off; a Hub
// wakes the dispatcher and the live chat streams (served by httpapi.Parley) as soon as a
// message is created, so neither waits for its next poll. All state lives in the store: a
// delivery acknowledged with the message survives a crash and is made after a restart.
package delivery

import (
	"context"
	"sync"

	"github.com/parley-dev/parley/internal/conv"
)

// Hub is a conv.EventSink that wakes the dispatcher and the live streams of a service when a
// message is added. Wake-ups only shorten waits: streams and dispatcher also poll, so a message
// created by another replica is delivered too.
type Hub struct {
	mu       sync.Mutex
	closed   bool
	subs     map[string]map[chan struct{}]struct{} // by service sid
	dispatch chan struct{}
}

// NewHub returns an open Hub.
func NewHub() *Hub {
	return &Hub{subs: map[string]map[chan struct{}]struct{}{}, dispatch: make(chan struct{}, 1)}
}

// notify sends a wake-up on c unless one is already waiting.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Publish wakes the dispatcher and the service's streams on onMessageAdded.
func (h *Hub) Publish(_ context.Context, e conv.Event) {
	if e.Type != "onMessageAdded" {
		return
	}
	h.Wake(e.ServiceSid)
}

// Wake wakes the dispatcher and every stream of the service.
func (h *Hub) Wake(serviceSid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	notify(h.dispatch)
	for c := range h.subs[serviceSid] {
		notify(c)
	}
}

// WakeAll wakes the dispatcher and every stream of every service.
func (h *Hub) WakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	notify(h.dispatch)
	for _, m := range h.subs {
		for c := range m {
			notify(c)
		}
	}
}

// Dispatch returns the channel the dispatcher waits on.
func (h *Hub) Dispatch() <-chan struct{} { return h.dispatch }

// Subscribe returns a channel that receives a value when chat deliveries of the service may be
// new, and that is closed when the hub closes; cancel releases it.
func (h *Hub) Subscribe(serviceSid string) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(c)
		return c, func() {}
	}
	if h.subs[serviceSid] == nil {
		h.subs[serviceSid] = map[chan struct{}]struct{}{}
	}
	h.subs[serviceSid][c] = struct{}{}
	return c, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[serviceSid][c]; ok {
			delete(h.subs[serviceSid], c)
			if len(h.subs[serviceSid]) == 0 {
				delete(h.subs, serviceSid)
			}
			close(c)
		}
	}
}

// Subscribers returns the number of open subscriptions (for tests and metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

// Close closes every subscription channel, which ends the live streams (the server calls it
// when it shuts down), and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, m := range h.subs {
		for c := range m {
			close(c)
		}
	}
	h.subs = map[string]map[chan struct{}]struct{}{}
}
