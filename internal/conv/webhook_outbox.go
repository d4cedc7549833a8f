package conv

import (
	"context"
	"strings"
	"time"
)

// The webhook outbox as the webhook dispatcher sees it (package webhook's Outbox): the
// deliveries emit wrote, claimed under a lease and settled one attempt at a time. The
// dispatcher owns the retry policy; these methods only read and write.

// NextWebhookDeliveryDue returns the earliest NextAttemptAt of a pending webhook delivery,
// and false when none is pending.
func (s *Service) NextWebhookDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	return s.store.NextWebhookDeliveryDue(ctx)
}

// ClaimWebhookDeliveries leases up to limit due webhook deliveries to owner until now+lease.
func (s *Service) ClaimWebhookDeliveries(ctx context.Context, now time.Time, owner string, limit int, lease time.Duration) ([]*WebhookDelivery, error) {
	var out []*WebhookDelivery
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		out, err = tx.ClaimWebhookDeliveries(ctx, owner, now, limit, now.Add(lease))
		return err
	})
	return out, err
}

// SettleWebhookDelivery records the outcome fields of claimed delivery w (status, last status
// code and error, attempts, next attempt, date delivered) and, in the same transaction, the
// attempt's history entry a (nil: none). ErrNotFound (wrapped): the lease was lost; then a
// is not recorded either.
func (s *Service) SettleWebhookDelivery(ctx context.Context, w *WebhookDelivery, owner string, a *WebhookAttempt) error {
	return s.store.WithTx(ctx, func(tx Store) error {
		if err := tx.SettleWebhookDelivery(ctx, w, owner); err != nil {
			return err
		}
		if a == nil {
			return nil
		}
		a.DeliverySid, a.AccountSid = w.Sid, w.AccountSid
		if len(a.ResponseBody) > MaxWebhookAttemptBody {
			a.ResponseBody = strings.ToValidUTF8(a.ResponseBody[:MaxWebhookAttemptBody], "")
		}
		return tx.AddWebhookAttempt(ctx, a)
	})
}

// AccountAuthToken returns the auth token that signs account accountSid's webhooks.
// ErrNotFound (wrapped) when the account is gone.
func (s *Service) AccountAuthToken(ctx context.Context, accountSid string) (string, error) {
	a, err := s.store.GetAccount(ctx, accountSid)
	if err != nil {
		return "", err
	}
	return a.AuthToken, nil
}

// PruneWebhookDeliveries deletes delivered and failed webhook deliveries last updated before
// before and returns how many.
func (s *Service) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		n, err = tx.PruneWebhookDeliveries(ctx, before)
		return err
	})
	return n, err
}
