package conv

import "context"

// ChangeRecorder is told, inside the write transaction of a change, about the change's
// events (whatever their source: REST, SDK, timers, inbound messages), so that a derived view
// (the client SDK's Sync view) is written in the same transaction as the change itself and
// can never miss or precede it. tx is the transaction's Store without the Service's cache
// wrapper, so a recorder may type-assert it to its engine's extra methods. An error aborts
// the change.
type ChangeRecorder interface {
	RecordChanges(ctx context.Context, tx Store, events []Event) error
}

// recordChanges hands events to the Service's ChangeRecorder, if any.
func (s *Service) recordChanges(ctx context.Context, tx Store, events []Event) error {
	if s.changes == nil || len(events) == 0 {
		return nil
	}
	if c, ok := tx.(*cacheStore); ok {
		tx = c.Store
	}
	return s.changes.RecordChanges(ctx, tx, events)
}
