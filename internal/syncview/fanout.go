package syncview

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
)

// MessageType is the twilsock notification type of Sync events (strictly ordered).
const MessageType = "twilio.sync.event"

// replayBatch bounds one read of the event log.
const replayBatch = 500

// Fanout delivers committed events to the sockets subscribed to their objects. Per socket it
// keeps, for each subscribed object, the id of the last event delivered; events are sent in id
// order without gaps or duplicates whichever path (replay on establish, or the live tail of the
// event log) finds them first: a live event above the next expected id first fills the gap
// from the log.
type Fanout struct {
	st   Store
	log  *slog.Logger
	poll time.Duration

	mu    sync.Mutex
	socks map[*gateway.Session]*socketSubs
	byObj map[string]map[*gateway.Session]struct{}
	wake  chan struct{}
}

type socketSubs struct {
	mu   sync.Mutex       // serialises deliveries to the socket
	last map[string]int64 // object SID → last event id delivered
	_    [0]func()        // not comparable
}

// NewFanout returns a fan-out over st. poll is the safety-net period of the log tail (other
// processes' writes, missed wake-ups); 0 means 1s.
func NewFanout(st Store, log *slog.Logger, poll time.Duration) *Fanout {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if poll <= 0 {
		poll = time.Second
	}
	return &Fanout{st: st, log: log, poll: poll, socks: map[*gateway.Session]*socketSubs{},
		byObj: map[string]map[*gateway.Session]struct{}{}, wake: make(chan struct{}, 1)}
}

// Publish implements conv.EventSink: a committed change wakes the fan-out.
func (f *Fanout) Publish(context.Context, conv.Event) { f.Wake() }

// Wake tells the fan-out that a transaction committed (never blocks).
func (f *Fanout) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// gapWait is how long a seq skipped by the tail is looked for again: with PostgreSQL, a
// transaction can commit after a later one (seq order is insert order, not commit order); a
// seq still missing after gapWait belongs to a rolled-back transaction.
const gapWait = 30 * time.Second

// Run tails the event log until ctx is done, delivering new events. Deliveries are
// idempotent (per socket and object, only the next event id is sent, gaps are filled from
// the log), so reading an event twice is harmless and a late commit is caught by gap checks.
func (f *Fanout) Run(ctx context.Context) {
	seq, err := f.st.LastSyncEventSeq(ctx)
	if err != nil && ctx.Err() == nil {
		f.log.Error("syncview: reading the event log", "err", err)
	}
	gaps := map[int64]time.Time{}
	if l, ok := f.st.(Listener); ok { // other replicas' commits wake this one
		go f.listen(ctx, l)
	}
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-t.C:
		}
		seq = f.tail(ctx, seq, gaps)
		f.recheck(ctx, seq, gaps)
	}
}

// listen keeps a change listener running until ctx is done (the poll covers the gaps while
// it reconnects).
func (f *Fanout) listen(ctx context.Context, l Listener) {
	for ctx.Err() == nil {
		err := l.ListenSyncChanges(ctx, f.Wake)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("syncview: change listener stopped; retrying", "err", err)
		f.Wake() // catch up on what arrived meanwhile
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.poll):
		}
	}
}

// tail delivers the events after seq and returns the last seq read, noting skipped seqs.
func (f *Fanout) tail(ctx context.Context, seq int64, gaps map[int64]time.Time) int64 {
	now := time.Now()
	for ctx.Err() == nil {
		evs, err := f.st.SyncEventsSince(ctx, seq, replayBatch)
		if err != nil {
			if ctx.Err() == nil {
				f.log.Error("syncview: reading the event log", "err", err)
			}
			return seq
		}
		for _, e := range evs {
			for g := seq + 1; g < e.Seq && len(gaps) < 10000; g++ {
				gaps[g] = now
			}
			seq = e.Seq
			f.deliverLive(ctx, e)
		}
		if len(evs) < replayBatch {
			break
		}
	}
	return seq
}

// recheck delivers events whose seq the tail skipped and that have committed since.
func (f *Fanout) recheck(ctx context.Context, seq int64, gaps map[int64]time.Time) {
	if len(gaps) == 0 {
		return
	}
	low := seq
	for g, at := range gaps {
		if time.Since(at) > gapWait {
			delete(gaps, g)
		} else if g < low {
			low = g
		}
	}
	for from := low - 1; len(gaps) > 0 && from < seq && ctx.Err() == nil; {
		evs, err := f.st.SyncEventsSince(ctx, from, replayBatch)
		if err != nil || len(evs) == 0 {
			return
		}
		for _, e := range evs {
			if _, ok := gaps[e.Seq]; ok {
				delete(gaps, e.Seq)
				f.deliverLive(ctx, e)
			}
			from = e.Seq
		}
	}
}

func (f *Fanout) subscribers(objectSid string) []*gateway.Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.byObj[objectSid]
	out := make([]*gateway.Session, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

func (f *Fanout) subsOf(s *gateway.Session) *socketSubs {
	f.mu.Lock()
	defer f.mu.Unlock()
	ss := f.socks[s]
	if ss == nil {
		ss = &socketSubs{last: map[string]int64{}}
		f.socks[s] = ss
		go func() { // forget the socket when it ends
			<-s.Done()
			ss.mu.Lock() // lock order: socket, then fan-out (as in handle)
			defer ss.mu.Unlock()
			f.mu.Lock()
			defer f.mu.Unlock()
			for obj := range ss.last {
				if set := f.byObj[obj]; set != nil {
					delete(set, s)
					if len(set) == 0 {
						delete(f.byObj, obj)
					}
				}
			}
			delete(f.socks, s)
		}()
	}
	return ss
}

func (f *Fanout) deliverLive(ctx context.Context, e *Event) {
	for _, s := range f.subscribers(e.ObjectSid) {
		ss := f.subsOf(s)
		ss.mu.Lock()
		if last, ok := ss.last[e.ObjectSid]; ok && e.ID > last {
			if e.ID > last+1 {
				_ = f.catchUp(ctx, s, ss, e.ObjectSid) // fills the gap, e included
			} else if send(s, e) == nil {
				ss.last[e.ObjectSid] = e.ID
			}
		}
		ss.mu.Unlock()
	}
}

// catchUp sends the object's events after the last delivered one (ss.mu held).
func (f *Fanout) catchUp(ctx context.Context, s *gateway.Session, ss *socketSubs, objectSid string) error {
	for {
		evs, err := f.st.SyncEvents(ctx, objectSid, ss.last[objectSid], replayBatch)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := send(s, e); err != nil {
				return err
			}
			ss.last[objectSid] = e.ID
		}
		if len(evs) < replayBatch {
			return nil
		}
	}
}

func send(s *gateway.Session, e *Event) error {
	b, err := json.Marshal(map[string]any{"event_type": e.Type, "event": e.Payload})
	if err != nil {
		return err
	}
	return s.Notify(MessageType, b)
}

func notify(s *gateway.Session, v any) {
	b, _ := json.Marshal(v)
	_ = s.Notify(MessageType, b)
}

// handle establishes or cancels a batch of subscriptions of socket s: for each object it
// registers the socket first, then replays the events after the client's last_event_id, then
// confirms; objects the identity may not see get subscription_failed.
func (f *Fanout) handle(ctx context.Context, v *View, s *gateway.Session, req subscriptionsRequest) {
	p := s.Principal()
	ss := f.subsOf(s)
	var established, failed, canceled []any
	for _, q := range req.Requests {
		if req.Action == "cancel" {
			f.mu.Lock()
			if set := f.byObj[q.ObjectSid]; set != nil {
				delete(set, s)
			}
			f.mu.Unlock()
			ss.mu.Lock()
			delete(ss.last, q.ObjectSid)
			ss.mu.Unlock()
			canceled = append(canceled, map[string]any{"object_sid": q.ObjectSid, "object_type": q.ObjectType})
			continue
		}
		o, err := v.visible(ctx, p, q.ObjectSid)
		if err != nil || o.Sid != q.ObjectSid {
			status, code, msg := 404, 54100, "The requested resource was not found"
			if err != nil && !errors.Is(err, conv.ErrNotFound) {
				status, code, msg = 500, 20500, "Internal Server Error"
			}
			failed = append(failed, map[string]any{"object_sid": q.ObjectSid, "object_type": q.ObjectType,
				"error": map[string]any{"status": status, "code": code, "message": msg}})
			continue
		}
		ss.mu.Lock()
		f.mu.Lock()
		set := f.byObj[o.Sid]
		if set == nil {
			set = map[*gateway.Session]struct{}{}
			f.byObj[o.Sid] = set
		}
		set[s] = struct{}{}
		f.mu.Unlock()
		from := o.LastEventID
		if q.LastEventID != nil && *q.LastEventID >= 0 && *q.LastEventID < from {
			from = *q.LastEventID
		}
		ss.last[o.Sid] = from
		err = f.catchUp(ctx, s, ss, o.Sid)
		last := ss.last[o.Sid]
		ss.mu.Unlock()
		if err != nil {
			failed = append(failed, map[string]any{"object_sid": q.ObjectSid, "object_type": q.ObjectType,
				"error": map[string]any{"status": 500, "code": 20500, "message": "Internal Server Error"}})
			continue
		}
		established = append(established, map[string]any{"object_sid": o.Sid, "object_type": q.ObjectType,
			"replay_status": "completed", "last_event_id": last})
	}
	for typ, evs := range map[string][]any{"subscription_established": established, "subscription_failed": failed, "subscription_canceled": canceled} {
		if len(evs) > 0 {
			notify(s, map[string]any{"event_type": typ, "correlation_id": req.CorrelationID, "events": evs})
		}
	}
}
