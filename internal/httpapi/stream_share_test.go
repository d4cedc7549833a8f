package httpapi

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// TestSharedStreamEventIsTheMarshalledOne checks that an event built around a shared message
// encoding is byte for byte what json.Marshal(streamEventJSON) writes, that one message is
// encoded once for its recipients, and that a changed message is encoded anew.
func TestSharedStreamEventIsTheMarshalledOne(t *testing.T) {
	body := `hi <b>&</b> "you" ` + "\u2028"
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m := &conv.Message{Seq: 3, Sid: "IM1", AccountSid: "AC1", ServiceSid: "IS1", ConversationSid: "CH1", Index: 4, Author: "al<i>ce",
		Body: &body, Attributes: `{"k":"v"}`, ParticipantSid: "MB1", DateCreated: at, DateUpdated: at,
		Delivery: &conv.DeliverySummary{Total: 1, Sent: "all", Delivered: "none", Read: "none", Failed: "none", Undelivered: "none"}}
	sh := newSharedMessages()
	for _, rc := range []*reqCtx{{base: "http://h"}, {base: "http://h", serviceForm: true}} {
		for i, identity := range []string{"bob", `"q" & <x>`} {
			e := &conv.StreamEvent{Delivery: &conv.Delivery{Seq: int64(10 + i), Sid: "DY" + strconv.Itoa(i), ParticipantSid: "MB9"}, Message: m}
			msg, err := sh.message(rc, m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendStreamEvent(nil, e, identity, msg)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(streamEventJSON{DeliverySid: e.Delivery.Sid, ParticipantSid: e.Delivery.ParticipantSid, Identity: identity, Message: rc.message(m)})
			want := "id: " + strconv.FormatInt(e.Delivery.Seq, 10) + "\nevent: onMessageAdded\ndata: " + string(data) + "\n\n"
			if string(got) != want {
				t.Errorf("shared event\n%s\nwant\n%s", got, want)
			}
		}
	}
	if len(sh.m) != 2 {
		t.Errorf("%d encodings kept for one message in two URL forms, want 2", len(sh.m))
	}
	changed := "changed"
	m2 := *m
	m2.Body = &changed
	msg, _ := sh.message(&reqCtx{base: "http://h"}, &m2)
	var back map[string]any
	if err := json.Unmarshal(msg, &back); err != nil || back["body"] != "changed" {
		t.Errorf("changed message served from the old encoding: %s", msg)
	}
	for i := 0; i < 2*sharedCap; i++ {
		m3 := *m
		m3.Sid = "IM" + strconv.Itoa(100+i)
		if _, err := sh.message(&reqCtx{base: "http://h"}, &m3); err != nil {
			t.Fatal(err)
		}
	}
	if len(sh.m) != sharedCap || len(sh.order) != sharedCap {
		t.Errorf("kept %d (%d in order), want the cap %d", len(sh.m), len(sh.order), sharedCap)
	}
}

// TestMessageKeyFields: messageKey has every field of conv.Message but Body, Delivery and
// Media (held apart in sharedKey), with the same types, so a new message field cannot be left
// out of the key of a shared encoding.
func TestMessageKeyFields(t *testing.T) {
	mt, kt := reflect.TypeOf(conv.Message{}), reflect.TypeOf(messageKey{})
	apart := map[string]bool{"Body": true, "Delivery": true, "Media": true}
	n := 0
	for i := range mt.NumField() {
		f := mt.Field(i)
		if apart[f.Name] {
			continue
		}
		n++
		kf, ok := kt.FieldByName(f.Name)
		if !ok || kf.Type != f.Type {
			t.Errorf("messageKey lacks conv.Message.%s (%s)", f.Name, f.Type)
		}
	}
	if kt.NumField() != n {
		t.Errorf("messageKey has %d fields, conv.Message %d besides Body, Delivery and Media", kt.NumField(), n)
	}
}

// TestSharedMessageMedia: messages that differ only in their media get their own encodings.
func TestSharedMessageMedia(t *testing.T) {
	s := newSharedMessages()
	rc := &reqCtx{base: "http://x"}
	m := &conv.Message{Sid: "IM1", Attributes: "{}", Media: []conv.MediaRef{{Sid: "ME1", Size: 1, ContentType: "image/png"}}}
	a, err := s.message(rc, m)
	if err != nil {
		t.Fatal(err)
	}
	m2 := *m
	m2.Media = []conv.MediaRef{{Sid: "ME2", Size: 1, ContentType: "image/png"}}
	b, err := s.message(rc, &m2)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) == string(b) || !strings.Contains(string(b), "ME2") {
		t.Errorf("shared encodings: %s / %s", a, b)
	}
}
