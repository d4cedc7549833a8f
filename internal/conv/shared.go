package conv

import (
	"context"
	"time"
)

// Helpers several resources share: dates given by the client and the read horizon. (Events
// and their after-commit publishing are in events.go.)

// applyDates sets created/updated from DateCreated/DateUpdated form values (participant
// create and update, which still take the form strings; the other commands use setDates).
// Errors: 50308, 50309.
func applyDates(created, updated *time.Time, dc, du *string) error {
	t, err := parseOptionalDate(dc, "DateCreated", 50308)
	if err != nil {
		return err
	}
	if t != nil {
		*created = *t
	}
	t, err = parseOptionalDate(du, "DateUpdated", 50309)
	if err != nil {
		return err
	}
	if t != nil {
		*updated = *t
	}
	return nil
}

// setDates sets created/updated from the DateCreated/DateUpdated of a command (nil: left alone).
func setDates(created, updated *time.Time, dc, du *time.Time) {
	if dc != nil {
		*created = *dc
	}
	if du != nil {
		*updated = *du
	}
}

// readHorizon returns the LastReadMessageIndex to store for participants of c when idx is
// given: an index beyond the conversation's last message index is lowered to it, so the
// horizon never covers messages that do not exist yet. nil (clearing it) stays nil.
// Error: 50421 when the conversation has never had a message.
func readHorizon(ctx context.Context, st Store, c *Conversation, idx *int64) (*int64, error) {
	if idx == nil {
		return nil, nil
	}
	next, err := st.MessageIndexCounter(ctx, c.Sid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if next == 0 {
		return nil, invalid(50421, "Invalid last read message index: conversation %s has no messages yet", c.Sid)
	}
	if *idx > next-1 {
		last := next - 1
		return &last, nil
	}
	return idx, nil
}
