package httpapi

import (
	"net/url"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// TestParticipantUpdateDecoding checks the door's mapping of the update form onto the typed
// command: "null" (or empty) clears a binding address, "null" clears the read horizon, and
// bad values keep today's codes.
func TestParticipantUpdateDecoding(t *testing.T) {
	dec := func(kv ...string) (conv.ParticipantUpdate, error) {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return participantUpdate(form(v))
	}
	in, err := dec()
	if err != nil || !in.ProxyAddress.Absent() || !in.ProjectedAddress.Absent() || !in.LastReadMessageIndex.Absent() ||
		!in.LastReadTimestamp.Absent() || in.DateCreated != nil || in.DateUpdated != nil || in.Identity != nil {
		t.Fatalf("empty form: %+v %v", in, err)
	}
	in, err = dec("MessagingBinding.ProxyAddress", "null", "MessagingBinding.ProjectedAddress", "",
		"LastReadMessageIndex", "null", "LastReadTimestamp", "null")
	if err != nil || !in.ProxyAddress.IsClear() || !in.ProjectedAddress.IsClear() || !in.LastReadMessageIndex.IsClear() || !in.LastReadTimestamp.IsClear() {
		t.Fatalf("null values: %+v %v", in, err)
	}
	in, err = dec("MessagingBinding.ProxyAddress", "+15017122661", "LastReadMessageIndex", "7",
		"LastReadTimestamp", "2020-01-02T03:04:05.678Z", "DateCreated", "2019-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := in.ProxyAddress.Get(); !ok || v != "+15017122661" {
		t.Errorf("proxy address = %+v", in.ProxyAddress)
	}
	if v, ok := in.LastReadMessageIndex.Get(); !ok || v != 7 {
		t.Errorf("index = %+v", in.LastReadMessageIndex)
	}
	if v, ok := in.LastReadTimestamp.Get(); !ok || !v.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("timestamp = %+v", in.LastReadTimestamp)
	}
	if in.DateCreated == nil || !in.DateCreated.Equal(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date created = %v", in.DateCreated)
	}
	for _, c := range []struct {
		kv   []string
		code int
	}{
		{[]string{"LastReadMessageIndex", "-1"}, 50421},
		{[]string{"LastReadMessageIndex", ""}, 50421},
		{[]string{"LastReadTimestamp", "yesterday"}, 50405},
		{[]string{"DateCreated", "2020-13-45"}, 50308},
		{[]string{"DateUpdated", "soon"}, 50309},
	} {
		if _, err := dec(c.kv...); err == nil {
			t.Errorf("%v accepted", c.kv)
		} else if e, ok := conv.AsError(err); !ok || e.Code != c.code || e.Kind != conv.KindInvalid {
			t.Errorf("%v: %v, want %d", c.kv, err, c.code)
		}
	}
	if _, err := participantCreate(form(url.Values{"DateUpdated": {"x"}})); err == nil {
		t.Error("create: bad DateUpdated accepted")
	} else if e, _ := conv.AsError(err); e.Code != 50309 {
		t.Errorf("create: %v", err)
	}
}
