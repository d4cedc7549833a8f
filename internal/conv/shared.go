package conv

import "time"

// Helpers several resources share: dates given by the client. (Events
// and their after-commit publishing are in events.go.)

// setDates sets created/updated from the DateCreated/DateUpdated of a command (nil: left alone).
func setDates(created, updated *time.Time, dc, du *time.Time) {
	if dc != nil {
		*created = *dc
	}
	if du != nil {
		*updated = *du
	}
}
