package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-dev/parley/internal/conv"
)

// encodingJSON returns what writeJSON wrote before jsonAppender: v encoded by encoding/json
// with HTML escaping off, without the trailing newline.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeListEncodingJSON is writeList as it was before jsonAppender: the body always built by
// encoding/json from listBody's map.
func writeListEncodingJSON[T, W any](w http.ResponseWriter, p pageReq, items []T, seq func(T) int64, listURL string, filters [][2]string, key string, toWire func(T) W) {
	items, meta := pageOf(p, items, seq, listURL, filters, key)
	out := make([]W, len(items))
	for i, x := range items {
		out[i] = toWire(x)
	}
	writeJSONReflect(w, http.StatusOK, listBody(key, out, meta))
}

// nastyStrings exercise every branch of appendJSONString.
var nastyStrings = []string{
	"",
	"plain ascii",
	`<script>alert("x")</script> & friends`,
	"quote \" backslash \\ slash /",
	"\b\f\n\r\t",
	"\x00\x01\x07\x0b\x0e\x1b\x1f\x20\x7f",
	"line\u2028para\u2029end",
	"\u2027\u202a", // neighbours of U+2028/U+2029, not escaped
	"\xff",
	"abc\xffdef\xfe",
	"\xe2\x80",             // truncated U+2028
	"\xe2\x80\xa8\xe2\x80", // U+2028 then a truncated one
	"\xed\xa0\x80",         // an encoded surrogate
	"\xf4\x90\x80\x80",     // above U+10FFFF
	"\xc0\xaf",             // overlong '/'
	"\ufffd replacement char",
	"héllo wörld — ✓ 日本語 🎉",
	`{"json":"in","json":[1,2]}`,
}

func strp(s string) *string { return &s }

func TestAppendJSONString(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got := appendJSONString([]byte("prefix"), s)
		want := append([]byte("prefix"), encodingJSON(t, s)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q)\n got %s\nwant %s", s, got, want)
		}
	}
	for _, s := range nastyStrings {
		check(s)
	}
	// Every byte alone, and after a multi-byte rune.
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check("é" + string([]byte{byte(c)}) + "x")
	}
	// Every rune, in batches.
	var sb strings.Builder
	for r := rune(0); r <= utf8.MaxRune; r++ {
		sb.WriteRune(r)
		if sb.Len() >= 4096 || r == utf8.MaxRune {
			check(sb.String())
			sb.Reset()
		}
	}
}

// TestAppendJSONFields fails when a field is added to a wire type with appendJSON: the new
// field must be appended too (and given a value in the tests below).
func TestAppendJSONFields(t *testing.T) {
	tags := func(v any) string {
		rt := reflect.TypeOf(v)
		var out []string
		for i := range rt.NumField() {
			out = append(out, rt.Field(i).Tag.Get("json"))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{participantJSON{}, "account_sid chat_service_sid,omitempty conversation_sid sid identity attributes messaging_binding role_sid date_created date_updated url last_read_message_index last_read_timestamp"},
		{bindingJSON{}, "type address,omitempty proxy_address,omitempty projected_address,omitempty"},
		{metaJSON{}, "page page_size first_page_url previous_page_url url next_page_url key"},
	} {
		if got := tags(c.v); got != c.want {
			t.Errorf("%T json tags changed: update its appendJSON and this test\n got %s\nwant %s", c.v, got, c.want)
		}
	}
}

func sampleParticipant(i int) participantJSON {
	idx := int64(i * 7)
	return participantJSON{
		AccountSid:           "AC00000000000000000000000000000000",
		ChatServiceSid:       strp("IS00000000000000000000000000000000"),
		ConversationSid:      "CH00000000000000000000000000000000",
		Sid:                  "MB" + strings.Repeat("0", 30-len(strconv.Itoa(i))) + strconv.Itoa(i),
		Identity:             strp("user-" + strconv.Itoa(i)),
		Attributes:           `{"role":"agent","tags":["<a>","b&c"]}`,
		MessagingBinding:     &bindingJSON{Type: "sms", Address: "+15550000000", ProxyAddress: "+15551111111"},
		RoleSid:              strp("RL00000000000000000000000000000000"),
		DateCreated:          twDate(time.Date(2015, 12, 16, 22, 18, 37, 123456789, time.UTC)),
		DateUpdated:          twDate(time.Date(2016, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -7*3600))),
		URL:                  "https://conversations.example.com/v1/Services/IS00000000000000000000000000000000/Conversations/CH00000000000000000000000000000000/Participants/MB" + strconv.Itoa(i),
		LastReadMessageIndex: &idx,
		LastReadTimestamp:    strp("2016-01-02T03:04:05Z"),
	}
}

func participantCases() map[string]participantJSON {
	cases := map[string]participantJSON{
		"zero":   {},
		"sample": sampleParticipant(1),
	}
	nils := sampleParticipant(2)
	nils.ChatServiceSid, nils.Identity, nils.MessagingBinding, nils.RoleSid, nils.LastReadMessageIndex, nils.LastReadTimestamp = nil, nil, nil, nil, nil, nil
	cases["nil pointers"] = nils
	empties := sampleParticipant(3)
	empties.ChatServiceSid, empties.Identity, empties.RoleSid, empties.LastReadTimestamp = strp(""), strp(""), strp(""), strp("")
	empties.MessagingBinding = &bindingJSON{}
	neg := int64(-1 << 63)
	empties.LastReadMessageIndex = &neg
	cases["empty strings"] = empties
	proj := sampleParticipant(4)
	proj.MessagingBinding = &bindingJSON{Type: "sms", ProjectedAddress: "+15552222222"}
	cases["projected binding"] = proj
	for i, s := range nastyStrings {
		p := sampleParticipant(10 + i)
		p.AccountSid, p.Attributes, p.URL = s, s, s
		p.Identity, p.RoleSid, p.LastReadTimestamp, p.ChatServiceSid = strp(s), strp(s), strp(s), strp(s)
		p.MessagingBinding = &bindingJSON{Type: s, Address: s, ProxyAddress: s, ProjectedAddress: s}
		cases["nasty "+strconv.Quote(s)] = p
	}
	dates := map[string]time.Time{
		"zero time":     {},
		"year 9999":     time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		"year 10000":    time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"negative year": time.Date(-42, 3, 4, 5, 6, 7, 0, time.UTC),
		"year -1":       time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		"year 0":        time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		"local zone":    time.Date(2020, 2, 29, 23, 30, 0, 0, time.FixedZone("E", 14*3600)),
	}
	for name, d := range dates {
		p := sampleParticipant(100)
		p.DateCreated, p.DateUpdated = twDate(d), twDate(d.Add(time.Second))
		cases[name] = p
	}
	return cases
}

func TestParticipantAppendJSON(t *testing.T) {
	for name, p := range participantCases() {
		t.Run(name, func(t *testing.T) { checkParticipant(t, p) })
	}
}

// checkParticipant asserts appendJSON and writeJSON write exactly encoding/json's bytes for p.
func checkParticipant(t *testing.T, p participantJSON) {
	t.Helper()
	want := encodingJSON(t, p)
	if got := p.appendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("appendJSON\n got %s\nwant %s", got, want)
	}
	old, rec := httptest.NewRecorder(), httptest.NewRecorder()
	writeJSONReflect(old, http.StatusCreated, p)
	writeJSON(rec, http.StatusCreated, p)
	if rec.Code != http.StatusCreated || !reflect.DeepEqual(rec.Header(), old.Header()) || !bytes.Equal(rec.Body.Bytes(), old.Body.Bytes()) {
		t.Fatalf("writeJSON: %d %v\n got %s\nwant %d %v\n     %s", rec.Code, rec.Header(), rec.Body.Bytes(), old.Code, old.Header(), old.Body.Bytes())
	}
}

// checkList asserts writeList writes exactly what the encoding/json map path wrote.
func checkList(t *testing.T, p pageReq, items []participantJSON, listURL string, filters [][2]string, key string) {
	t.Helper()
	seq := func(x participantJSON) int64 {
		if x.LastReadMessageIndex == nil {
			return 1
		}
		return *x.LastReadMessageIndex&(1<<40-1) + 1
	}
	id := func(x participantJSON) participantJSON { return x }
	old, got := httptest.NewRecorder(), httptest.NewRecorder()
	writeListEncodingJSON(old, p, items, seq, listURL, filters, key, id)
	if err := writeList(got, p, items, seq, listURL, filters, key, id); err != nil {
		t.Fatal(err)
	}
	if old.Code != http.StatusOK {
		t.Fatalf("encoding/json path: status %d: %s", old.Code, old.Body.Bytes())
	}
	if got.Code != old.Code || !reflect.DeepEqual(got.Header(), old.Header()) || !bytes.Equal(got.Body.Bytes(), old.Body.Bytes()) {
		t.Fatalf("key %q: writeList: %d %v\n got %s\nwant %d %v\n     %s", key, got.Code, got.Header(), got.Body.Bytes(), old.Code, old.Header(), old.Body.Bytes())
	}
}

func TestParticipantListAppendJSON(t *testing.T) {
	var all []participantJSON
	for _, p := range participantCases() {
		all = append(all, p)
	}
	const listURL = "https://h.example/v1/Conversations/CH0/Participants"
	keys := []string{"participants", "meta", "me", "mea", "meta0", "metA", "Meta", "", "a", "zzz", "a\"b", "<k>&", "\xff", "k\u2028", "\x01"}
	for _, key := range keys {
		for n := range 4 {
			for _, p := range []pageReq{{size: 2}, {size: 2, page: 1}, {size: 2, after: 5}, {size: 2, before: 9}, {size: 50}} {
				checkList(t, p, all[:n], listURL, nil, key)
			}
		}
	}
	checkList(t, pageReq{size: 50}, all, "https://h\xff\u2028\"/x?<&>", [][2]string{{"State", "active"}, {"<&>", "\xff"}}, "participants")
	checkList(t, pageReq{size: 50}, nil, listURL, nil, "participants")
}

func FuzzParticipantJSON(f *testing.F) {
	f.Add("AC1", "IS1", "CH1", "MB1", "alice", `{"a":"<b>&"}`, "sms", "+1555", "+1666", "", "RL1", "https://h/v1/Conversations/CH1/Participants/MB1", "2016-01-02T03:04:05Z", uint16(0xffff), int64(3), int64(1450304317), int64(1450304318), "participants", "https://h/v1/Conversations/CH1/Participants")
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "", uint16(0), int64(0), int64(0), int64(0), "", "")
	f.Add("\xff\xfe", "\u2028", "\u2029", "\x00\x1f", "\"\\", "\b\f\n\r\t", "\x7f", "<>&", "\xe2\x80", "\xed\xa0\x80", "é", "🎉", "\ufffd", uint16(0x2a5), int64(-1), int64(-62135596800), int64(253402300800), "a\"b", "\xff/x?<&>")
	f.Add("x", "y", "z", "w", "v", "u", "t", "s", "r", "q", "p", "o", "n", uint16(0x1f0), int64(1<<62), int64(1<<40), int64(-1<<40), "meta", "u")
	f.Add("x", "y", "z", "w", "v", "u", "t", "s", "r", "q", "p", "o", "n", uint16(0x3c3), int64(1), int64(2), int64(3), "aaa", "u")
	f.Fuzz(func(t *testing.T, account, service, convSid, sid, identity, attrs, bindingType, address, proxy, projected, role, u, lastTS string,
		flags uint16, lastIdx, created, updated int64, key, listURL string) {
		p := participantJSON{AccountSid: account, ConversationSid: convSid, Sid: sid, Attributes: attrs, URL: u,
			DateCreated: twDate(time.Unix(created, lastIdx&(1<<30-1)).UTC()), DateUpdated: twDate(time.Unix(updated, 0))}
		if flags&1 != 0 {
			p.ChatServiceSid = &service
		}
		if flags&2 != 0 {
			p.Identity = &identity
		}
		if flags&4 != 0 {
			p.MessagingBinding = &bindingJSON{Type: bindingType, Address: address, ProxyAddress: proxy, ProjectedAddress: projected}
		}
		if flags&8 != 0 {
			p.RoleSid = &role
		}
		if flags&16 != 0 {
			p.LastReadMessageIndex = &lastIdx
		}
		if flags&32 != 0 {
			p.LastReadTimestamp = &lastTS
		}
		if flags&64 != 0 {
			p.DateUpdated = twDate(time.Time(p.DateUpdated).In(time.FixedZone("F", int(lastIdx%50400))))
		}
		checkParticipant(t, p)

		// A page of up to three items around p.
		q := p
		q.Sid, q.Identity, q.MessagingBinding = identity, nil, nil
		items := []participantJSON{p, q, p}[:flags>>7&3]
		pr := pageReq{size: 1 + int(flags>>9&3), page: int(flags >> 11 & 3)}
		switch flags >> 13 & 3 {
		case 1:
			pr.after = 7
		case 2:
			pr.before = 9
		}
		var filters [][2]string
		if flags&(1<<15) != 0 {
			filters = [][2]string{{attrs, role}}
		}
		checkList(t, pr, items, listURL, filters, key)
	})
}

// discardWriter is a ResponseWriter that keeps nothing but the byte count.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

// BenchmarkParticipantListJSON measures a 50-participant list response through encoding/json's
// map path and the jsonAppender path: whole (paging and conversion from conv.Participant
// included, as a handler runs it) and the encoding alone.
func BenchmarkParticipantListJSON(b *testing.B) {
	rc := &reqCtx{serviceForm: true, base: "https://conversations.example.com"}
	items := make([]*conv.Participant, 51)
	for i := range items {
		idx := int64(i)
		ts := "2024-05-06T07:08:09Z"
		p := &conv.Participant{Seq: int64(i + 1), Sid: "MB" + strings.Repeat("0", 30-len(strconv.Itoa(i))) + strconv.Itoa(i),
			AccountSid: "AC00000000000000000000000000000000", ServiceSid: "IS00000000000000000000000000000000",
			ConversationSid: "CH00000000000000000000000000000000", Attributes: `{"department":"sales","tier":2}`,
			DateCreated: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), DateUpdated: time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC),
			LastReadMessageIndex: &idx, LastReadTimestamp: &ts}
		if i%2 == 0 {
			id := "user-" + strconv.Itoa(i)
			p.Identity = &id
			p.RoleSid = "RL00000000000000000000000000000000"
		} else {
			p.Binding = &conv.Binding{Type: "sms", Address: "+1555000" + strconv.Itoa(1000+i), ProxyAddress: "+15559999999"}
		}
		items[i] = p
	}
	seq := func(p *conv.Participant) int64 { return p.Seq }
	listURL := rc.servicePrefix("IS00000000000000000000000000000000") + "/Conversations/CH00000000000000000000000000000000/Participants"
	pr := pageReq{size: 50}
	b.Run("encoding_json", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) {
			writeListEncodingJSON(w, pr, items, seq, listURL, nil, "participants", rc.participant)
		})
	})
	b.Run("append", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) {
			_ = writeList(w, pr, items, seq, listURL, nil, "participants", rc.participant)
		})
	})
	bufs := &sync.Pool{}
	b.Run("append_pooled", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) {
			_ = writeListBuf(w, bufs, pr, items, seq, listURL, nil, "participants", rc.participant)
		})
	})
	// The encoding alone: the page already trimmed and converted.
	page, meta := pageOf(pr, items, seq, listURL, nil, "participants")
	wire := make([]participantJSON, len(page))
	for i, p := range page {
		wire[i] = rc.participant(p)
	}
	b.Run("encode_only/encoding_json", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) {
			writeJSONReflect(w, http.StatusOK, listBody("participants", wire, meta))
		})
	})
	b.Run("encode_only/append", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) {
			writeJSONBytes(w, http.StatusOK, appendListBody("participants", wire, &meta))
		})
	})
}

// BenchmarkParticipantJSON measures one participant response through both paths.
func BenchmarkParticipantJSON(b *testing.B) {
	rc := &reqCtx{serviceForm: true, base: "https://conversations.example.com"}
	id, idx := "alice", int64(4)
	p := &conv.Participant{Seq: 1, Sid: "MB00000000000000000000000000000001", AccountSid: "AC00000000000000000000000000000000",
		ServiceSid: "IS00000000000000000000000000000000", ConversationSid: "CH00000000000000000000000000000000",
		Identity: &id, Attributes: `{"department":"sales","tier":2}`, RoleSid: "RL00000000000000000000000000000000",
		LastReadMessageIndex: &idx, DateCreated: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), DateUpdated: time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)}
	b.Run("encoding_json", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) { writeJSONReflect(w, http.StatusOK, rc.participant(p)) })
	})
	b.Run("append", func(b *testing.B) {
		benchWrite(b, func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, rc.participant(p)) })
	})
}

// benchWrite runs write in a benchmark loop against a discarding ResponseWriter and reports
// the body size as bytes per operation.
func benchWrite(b *testing.B, write func(http.ResponseWriter)) {
	w := &discardWriter{h: http.Header{}}
	write(w)
	b.SetBytes(int64(w.n))
	b.ReportAllocs()
	for b.Loop() {
		write(w)
	}
}

// TestParticipantListPooledBuffer checks writeListBuf with a pool: buffers reused by later
// pages, larger then smaller, still give exactly encoding/json's bytes.
func TestParticipantListPooledBuffer(t *testing.T) {
	var all []participantJSON
	for _, p := range participantCases() {
		all = append(all, p)
	}
	seq := func(x participantJSON) int64 { return int64(len(x.Sid)) + 1 }
	id := func(x participantJSON) participantJSON { return x }
	const listURL = "https://h.example/v1/Conversations/CH0/Participants"
	bufs := &sync.Pool{}
	for round := range 3 {
		for _, n := range []int{len(all), 2, 0, len(all), 1} {
			for _, key := range []string{"participants", "a", "meta"} {
				p := pageReq{size: 50, page: round}
				old, got := httptest.NewRecorder(), httptest.NewRecorder()
				writeListEncodingJSON(old, p, all[:n], seq, listURL, nil, key, id)
				if err := writeListBuf(got, bufs, p, all[:n], seq, listURL, nil, key, id); err != nil {
					t.Fatal(err)
				}
				if got.Code != old.Code || !reflect.DeepEqual(got.Header(), old.Header()) || !bytes.Equal(got.Body.Bytes(), old.Body.Bytes()) {
					t.Fatalf("round %d, %d items, key %q: writeListBuf: %d %v\n got %s\nwant %d %v\n     %s", round, n, key, got.Code, got.Header(), got.Body.Bytes(), old.Code, old.Header(), old.Body.Bytes())
				}
			}
		}
	}
}
