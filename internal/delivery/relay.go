package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"

	"github.com/parley-dev/parley/internal/conv"
)

// Broadcaster carries wake-ups between the replicas that share a database (the PostgreSQL
// store's LISTEN/NOTIFY implements it).
type Broadcaster interface {
	// Notify sends payload to every replica's Listen.
	Notify(ctx context.Context, payload string) error
	// Listen calls fn with each payload until ctx ends, and with "" after every
	// (re)connection (notifications may have been missed).
	Listen(ctx context.Context, fn func(payload string))
}

// Relay is a conv.EventSink that tells the other replicas when this one adds a message, and
// wakes this replica's Hub when another one does: live streams then wait on notifications,
// and their polling is only a slow safety net. Sending is asynchronous and coalesced per
// service, so a request never waits for it; a notification that cannot be sent is covered by
// the safety-net poll.
type Relay struct {
	b   Broadcaster
	hub *Hub
	log *slog.Logger
	id  string // this replica's, to ignore its own notifications

	mu      sync.Mutex
	pending map[string]struct{} // services to announce
	kick    chan struct{}
}

// NewRelay returns a Relay between b and hub; Run starts it.
func NewRelay(b Broadcaster, hub *Hub, log *slog.Logger) *Relay {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Relay{b: b, hub: hub, log: log, id: hex.EncodeToString(id[:]), pending: map[string]struct{}{}, kick: make(chan struct{}, 1)}
}

// Publish queues an announcement of the service on onMessageAdded.
func (r *Relay) Publish(_ context.Context, e conv.Event) {
	if e.Type != "onMessageAdded" {
		return
	}
	r.mu.Lock()
	r.pending[e.ServiceSid] = struct{}{}
	r.mu.Unlock()
	notify(r.kick)
}

// Run sends the queued announcements and listens for the other replicas' until ctx ends; it
// returns once the listener has stopped.
func (r *Relay) Run(ctx context.Context) {
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		r.b.Listen(ctx, r.received)
	}()
	defer func() { <-listening }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		r.mu.Lock()
		services := make([]string, 0, len(r.pending))
		for s := range r.pending {
			services = append(services, s)
		}
		clear(r.pending)
		r.mu.Unlock()
		for _, s := range services {
			if err := r.b.Notify(ctx, r.id+" "+s); err != nil && ctx.Err() == nil {
				r.log.Warn("relay: notify other replicas (their streams poll instead)", slog.Any("err", err))
			}
		}
	}
}

// received wakes the service named by another replica's payload; "" (a reconnection, after
// which anything may have been missed) wakes every stream.
func (r *Relay) received(payload string) {
	if payload == "" {
		r.hub.WakeAll()
		return
	}
	from, service, ok := strings.Cut(payload, " ")
	if !ok || from == r.id {
		return
	}
	r.hub.Wake(service)
}
