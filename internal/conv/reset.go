package conv

import "context"

// Reset removes every conversation, participant, message, user, role, webhook (configuration,
// conversation webhooks and delivery log), delivery, outbox entry, media item (with its bytes),
// push binding, recorded push, address configuration and service of the account, in one transaction, and recreates its default service as on first
// start. The account, its auth token, API keys and credentials are kept; other accounts are
// untouched.
func (s *Service) Reset(ctx context.Context, accountSid string) error {
	err := s.store.WithTx(ctx, func(tx Store) error {
		if err := tx.ResetAccount(ctx, accountSid); err != nil {
			return err
		}
		a, err := tx.GetAccount(ctx, accountSid)
		if err != nil {
			return mapStoreErr(err)
		}
		_, err = s.defaultServiceTx(ctx, tx, a)
		return err
	})
	s.cache.clear()
	return err
}
