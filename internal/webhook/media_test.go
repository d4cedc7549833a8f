package webhook_test

import (
	"net/url"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/webhook"
)

// TestMediaParam: a message with media carries Media, a JSON array of its items; a message
// without has none.
func TestMediaParam(t *testing.T) {
	m := &conv.Message{Sid: "IM1", ConversationSid: "CH1", Author: "alice", Attributes: "{}",
		Media: []conv.MediaRef{{Sid: "ME1", Size: 42, ContentType: "image/png", Filename: "cat.png"}}}
	v, err := url.ParseQuery(webhook.Format{}.EncodeEvent(conv.Event{Type: conv.EventMessageAdded, Message: m}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Get("Media"), `[{"ContentType":"image/png","Filename":"cat.png","Category":"media","Sid":"ME1","Size":42}]`; got != want {
		t.Errorf("Media = %s, want %s", got, want)
	}
	m.Media = nil
	v, _ = url.ParseQuery(webhook.Format{}.EncodeEvent(conv.Event{Type: conv.EventMessageAdded, Message: m}))
	if v.Has("Media") {
		t.Errorf("Media without media: %v", v)
	}
}
