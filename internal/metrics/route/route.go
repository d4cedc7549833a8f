// Package route carries the matched route pattern of a request from the router back to the
// middlewares that label by it (metrics), without the router depending on them.
package route

import "context"

type key struct{}

// Slot returns ctx carrying a slot the router fills with the matched route pattern, and the slot.
func Slot(ctx context.Context) (context.Context, *string) {
	s := new(string)
	return context.WithValue(ctx, key{}, s), s
}

// Set records the matched route pattern (e.g. "GET /v1/Conversations/{Sid}") in ctx's slot,
// when it has one.
func Set(ctx context.Context, pattern string) {
	if s, ok := ctx.Value(key{}).(*string); ok {
		*s = pattern
	}
}
