package conv

import "context"

// MultiSink is an EventSink that publishes every event to each of its sinks, in order.
type MultiSink []EventSink

// Publish hands e to every sink of m.
func (m MultiSink) Publish(ctx context.Context, e Event) {
	for _, s := range m {
		s.Publish(ctx, e)
	}
}
