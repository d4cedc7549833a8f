package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Defaults of Options.
const (
	DefaultPollInterval = time.Second
	DefaultLease        = 30 * time.Second
	DefaultBatch        = 50
	DefaultSendTimeout  = 10 * time.Second
	DefaultMaxAttempts  = 8
	DefaultBackoff      = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
)

// Queue is what the Dispatcher needs of the domain: the non-chat deliveries to hand over and
// the recording of their outcomes (*conv.Service implements it). Settling a delivery whose
// lease was lost returns conv.ErrNotFound (wrapped).
type Queue interface {
	// ClaimDeliveries leases up to limit due deliveries to owner until now+lease.
	ClaimDeliveries(ctx context.Context, now time.Time, owner string, limit int, lease time.Duration) ([]*conv.Outbound, error)
	// CompleteDelivery records that the carrier accepted d.
	CompleteDelivery(ctx context.Context, d *conv.Delivery, owner, status, channelSid string) error
	// FailDelivery records a failed attempt: failed for good when final, else due at retryAt.
	FailDelivery(ctx context.Context, d *conv.Delivery, owner, cause string, final bool, retryAt time.Time) error
}

// Options configure a Dispatcher; zero values get the defaults.
type Options struct {
	// Clock is the time deliveries are due and leased by (default time.Now).
	Clock func() time.Time
	// Owner names this dispatcher in leases (default: random, unique per process).
	Owner string
	// PollInterval is how often the store is asked for due deliveries when nothing wakes the
	// dispatcher (default 1 s).
	PollInterval time.Duration
	// Lease is how long a claimed delivery is reserved for this dispatcher; after it another
	// one (of this or another replica) may claim it again (default 30 s). It must exceed
	// SendTimeout.
	Lease time.Duration
	// Batch is the most deliveries claimed at once (default 50).
	Batch int
	// SendTimeout bounds one Carrier.Send (default 10 s).
	SendTimeout time.Duration
	// MaxAttempts bounds the carrier attempts of one delivery, the first included (default 8).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles after each further one,
	// up to MaxBackoff (defaults 1 s and 5 min).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Wake, when set, makes the dispatcher look for work at once (Hub.Dispatch).
	Wake <-chan struct{}
	// Log receives delivery failures (default: discarded).
	Log *slog.Logger
	// Settled, when set, is called after the outcome of each attempt is recorded (the web
	// console's live updates: console.Broker.DeliverySettled).
	Settled func(d *conv.Delivery)
}

// Dispatcher hands due non-chat deliveries to a Carrier and settles them: sent or delivered
// when the carrier accepts, pending again with back-off on a transient failure, failed after
// the last attempt or a permanent failure. Several dispatchers (replicas) may share a store:
// claims are leases, so each delivery is handed over by one at a time.
type Dispatcher struct {
	q       Queue
	carrier Carrier
	opts    Options
}

// NewDispatcher returns a Dispatcher handing the deliveries of q to carrier.
func NewDispatcher(q Queue, carrier Carrier, opts Options) *Dispatcher {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		opts.Owner = "dispatcher-" + hex.EncodeToString(b[:])
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	opts.Lease = max(opts.Lease, 2*opts.SendTimeout)
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{q: q, carrier: carrier, opts: opts}
}

// Backoff returns the wait before the next attempt after attempt (1-based) failed: Backoff,
// doubled after each further failure, up to MaxBackoff.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	b := d.opts.Backoff
	for i := 1; i < attempt && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, d.opts.MaxBackoff)
}

// Run dispatches until ctx is cancelled, then returns (a send in progress is cancelled with
// it; its delivery stays pending and is made again after the lease).
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.opts.Log.Error("delivery dispatch", slog.Any("err", err))
			}
			if err != nil || n < d.opts.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.opts.Wake:
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due deliveries, hands each to the carrier in order and settles
// it. It returns how many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	batch, err := d.q.ClaimDeliveries(ctx, d.opts.Clock(), d.opts.Owner, d.opts.Batch, d.opts.Lease)
	if err != nil {
		return 0, err
	}
	for _, o := range batch {
		if err := d.send(ctx, o); err != nil {
			return len(batch), err
		}
	}
	return len(batch), nil
}

// send hands one delivery to the carrier and settles it. A lost lease is not an error: the
// new owner settles it.
func (d *Dispatcher) send(ctx context.Context, o *conv.Outbound) error {
	sctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	res, err := d.carrier.Send(sctx, o)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	dl := o.Delivery
	if err == nil {
		err = d.q.CompleteDelivery(ctx, dl, d.opts.Owner, res.Status, res.ChannelMessageSid)
	} else {
		final := isPermanent(err) || dl.Attempts >= d.opts.MaxAttempts
		ferr := d.q.FailDelivery(ctx, dl, d.opts.Owner, err.Error(), final, d.opts.Clock().Add(d.Backoff(dl.Attempts)))
		lvl := slog.LevelWarn
		if final {
			lvl = slog.LevelError
		}
		d.opts.Log.Log(ctx, lvl, "delivery attempt failed", slog.String("delivery", dl.Sid), slog.String("to", dl.Address),
			slog.Int("attempt", dl.Attempts), slog.Bool("final", final), slog.Any("err", err))
		err = ferr
	}
	if err == nil && d.opts.Settled != nil {
		d.opts.Settled(dl)
	}
	if errors.Is(err, conv.ErrNotFound) {
		return nil
	}
	return err
}
