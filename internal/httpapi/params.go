package httpapi

import (
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Typed parameters parsed at the door: the domain takes time.Time and conv.Opt values, never
// form strings or the "null" sentinel. The errors are the domain's (same codes and messages).

// dates parses the DateCreated and DateUpdated parameters (nil when absent).
// Errors: 50308, 50309.
func (f form) dates() (created, updated *time.Time, err error) {
	if created, err = f.date("DateCreated", conv.CodeBadDateCreated); err != nil {
		return nil, nil, err
	}
	if updated, err = f.date("DateUpdated", conv.CodeBadDateUpdated); err != nil {
		return nil, nil, err
	}
	return created, updated, nil
}

// date parses date parameter key (nil when absent); a value that is not a date is a 400 with code.
func (f form) date(key string, code int) (*time.Time, error) {
	v := f.str(key)
	if v == nil {
		return nil, nil
	}
	t, err := conv.ParseDateParam(*v, key, code)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// readIndex parses a LastReadMessageIndex parameter: absent, "null" (Clear) or an index.
// Error: 50421.
func (f form) readIndex(key string) (conv.Opt[int64], error) {
	v := f.str(key)
	switch {
	case v == nil:
		return conv.Opt[int64]{}, nil
	case *v == "null":
		return conv.Clear[int64](), nil
	}
	n, err := conv.ParseLastReadIndex(*v)
	if err != nil {
		return conv.Opt[int64]{}, err
	}
	return conv.Set(n), nil
}

// readTimestamp parses a LastReadTimestamp parameter: absent, "null" (Clear) or a date.
// Error: 50405.
func (f form) readTimestamp(key string) (conv.Opt[time.Time], error) {
	v := f.str(key)
	switch {
	case v == nil:
		return conv.Opt[time.Time]{}, nil
	case *v == "null":
		return conv.Clear[time.Time](), nil
	}
	t, err := conv.ParseLastReadTimestamp(*v)
	if err != nil {
		return conv.Opt[time.Time]{}, err
	}
	return conv.Set(t), nil
}
