package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// jsFrame builds a frame the way the JS client's Parser.createPacket does (parser.js): the
// header gets payload_size, then "TWILSOCK V3.0 <len>\r\n<header>\r\n<payload>" with no
// trailing CRLF.
func jsFrame(header, payload string) []byte {
	return []byte("TWILSOCK V3.0 " + strconv.Itoa(len(header)) + "\r\n" + header + "\r\n" + payload)
}

// The first frame SDK 3.0.1 sends (shape from protocol/messages/init.js and metadata.js).
const initHeader = `{"id":"TM0353a1b2c3d4e5f60718293a4b5c6d7e","method":"init","token":"eyJ.eyJ.sig","continuation_token":null,` +
	`"metadata":{"ver":"1.0.2","env":"Node.js","envv":"20.20.2","os":"Linux","osv":"unknown","osa":64,"type":"conversations","sdk":"JS","sdkv":"3.0.1"},` +
	`"registrations":[{"product":"ip_messaging","type":"ers","notification_protocol_version":0,` +
	`"message_types":["twilio.ipmsg.typing_indicator","twilio.sync.event","com.twilio.rtd.cds.document","com.twilio.rtd.cds.list","com.twilio.rtd.cds.map"]}],` +
	`"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`

// An upstream GET (services/upstream.js actualSend).
const configHeader = `{"id":"TMaa","method":"message","active_grant":"ip_messaging","payload_type":"application/json; charset=utf-8",` +
	`"http_request":{"host":"aim.us1.twilio.com","path":"/Client/v2/Configuration","method":"GET","params":{},` +
	`"headers":{"Content-Type":"application/json; charset=utf-8"}},"payload_size":0}`

func TestParseSDKFrames(t *testing.T) {
	t.Run("init", func(t *testing.T) {
		f, err := Parse(jsFrame(initHeader, ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Header != (Header{Method: "init", ID: "TM0353a1b2c3d4e5f60718293a4b5c6d7e"}) || len(f.Payload) != 0 {
			t.Fatalf("header %+v payload %q", f.Header, f.Payload)
		}
		var in Init
		if err := f.DecodeHeader(&in); err != nil {
			t.Fatal(err)
		}
		if in.Token != "eyJ.eyJ.sig" || in.ContinuationToken != nil || in.Metadata.SDKV != "3.0.1" || string(in.Metadata.OSA) != "64" ||
			len(in.Registrations) != 1 || in.Registrations[0].Product != "ip_messaging" || len(in.Registrations[0].MessageTypes) != 5 ||
			strings.Join(in.Capabilities, ",") != "client_update,offline_storage,telemetry.v1" {
			t.Fatalf("init = %+v", in)
		}
	})
	t.Run("upstream GET", func(t *testing.T) {
		f, err := Parse(jsFrame(configHeader, ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		var m Message
		if err := f.DecodeHeader(&m); err != nil {
			t.Fatal(err)
		}
		if m.ActiveGrant != "ip_messaging" || m.HTTPRequest.Host != "aim.us1.twilio.com" || m.HTTPRequest.Path != "/Client/v2/Configuration" ||
			m.HTTPRequest.Method != "GET" || m.HTTPRequest.Headers["Content-Type"].First() != "application/json; charset=utf-8" || !f.IsJSON() {
			t.Fatalf("message = %+v", m)
		}
	})
	t.Run("upstream POST form with repeated params", func(t *testing.T) {
		body := "ChannelSid=CH0123456789abcdef0123456789abcdef"
		h := `{"id":"TMbb","method":"message","active_grant":"ip_messaging","payload_type":"application/x-www-form-urlencoded",` +
			`"http_request":{"host":"aim.us1.twilio.com","path":"/Client/v1/Services/IS1/Typing","method":"POST",` +
			`"params":{"Order":"desc","Key":["a%20b","c",null]},"headers":{"Content-Type":"application/x-www-form-urlencoded"}},"payload_size":` +
			strconv.Itoa(len(body)) + `}`
		f, err := Parse(jsFrame(h, body), 0)
		if err != nil {
			t.Fatal(err)
		}
		var m Message
		if err := f.DecodeHeader(&m); err != nil {
			t.Fatal(err)
		}
		if string(f.Payload) != body || f.IsJSON() || m.HTTPRequest.Params["Order"].First() != "desc" ||
			strings.Join(m.HTTPRequest.Params["Key"], "|") != "a%20b|c|" {
			t.Fatalf("payload %q message %+v", f.Payload, m)
		}
	})
	t.Run("update", func(t *testing.T) {
		f, err := Parse(jsFrame(`{"method":"update","token":"new","id":"TMcc","payload_size":0}`, ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		var u Update
		if err := f.DecodeHeader(&u); err != nil || u.Token != "new" || u.ID != "TMcc" {
			t.Fatalf("update %+v %v", u, err)
		}
	})
	t.Run("ack reply", func(t *testing.T) {
		// The client acks every non-reply frame with reply.js: payload_type and status 200.
		f, err := Parse(jsFrame(`{"id":"TMserver1","method":"reply","payload_type":"application/json","status":{"code":200,"status":"OK"},"payload_size":0}`, ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		var r Reply
		if err := f.DecodeHeader(&r); err != nil || r.Status != StatusOK() || r.ID != "TMserver1" {
			t.Fatalf("reply %+v %v", r, err)
		}
	})
	t.Run("close and put_notification_ctx", func(t *testing.T) {
		for _, h := range []string{
			`{"method":"close","id":"TMdd","payload_size":0}`,
			`{"method":"put_notification_ctx","notification_ctx_id":"ctx1","id":"TMee","payload_size":2}`,
		} {
			p := ""
			if strings.Contains(h, "ctx") {
				p = "{}"
			}
			if _, err := Parse(jsFrame(h, p), 0); err != nil {
				t.Fatalf("%s: %v", h, err)
			}
		}
	})
	t.Run("Twilio server init reply (Kotlin fakeMessages shape)", func(t *testing.T) {
		h := `{"method":"reply","id":"TMff","payload_size":0,"status":{"code":200,"status":"OK"},"capabilities":["client_update"],` +
			`"continuation_token":"ct","continuation_token_status":{"reissued":true,"reissue_reason":"DIFFERENT_IDENTITY","reissue_message":"Different identity"},` +
			`"init_registrations":[{"notification_ctx_id":"b47f","type":"ers","product":"ip_messaging","message_types":["twilio.sync.event"]}]}`
		f, err := Parse(jsFrame(h, ""), 0)
		if err != nil {
			t.Fatal(err)
		}
		var r InitReply
		if err := f.DecodeHeader(&r); err != nil || r.ContinuationToken != "ct" || r.InitRegistrations[0].NotificationCtxID != "b47f" || r.Status.Code != 200 {
			t.Fatalf("init reply %+v %v", r, err)
		}
	})
	t.Run("payload with trailing CRLF (Kotlin client / Twilio server)", func(t *testing.T) {
		f, err := Parse(jsFrame(`{"method":"notification","id":"x","message_type":"twilio.sync.event","payload_size":2}`, "{}\r\n"), 0)
		if err != nil || string(f.Payload) != "{}" {
			t.Fatalf("%q %v", f.Payload, err)
		}
	})
	t.Run("header without payload_size, frame ending after header", func(t *testing.T) {
		h := `{"method":"ping","id":"RQ1"}`
		f, err := Parse([]byte("TWILSOCK V3.0 "+strconv.Itoa(len(h))+"\r\n"+h), 0)
		if err != nil || f.Header.Method != "ping" {
			t.Fatalf("%+v %v", f, err)
		}
	})
	t.Run("multi-byte UTF-8 header and payload", func(t *testing.T) {
		body := `{"body":"héllo 👋"}`
		h := `{"method":"message","id":"TMü","payload_size":` + strconv.Itoa(len(body)) + `}`
		f, err := Parse(jsFrame(h, body), 0)
		if err != nil || string(f.Payload) != body || f.Header.ID != "TMü" {
			t.Fatalf("%+v %v", f, err)
		}
	})
}

func TestParseErrors(t *testing.T) {
	okHeader := `{"method":"reply","id":"1","payload_size":2}`
	cases := []struct {
		name  string
		frame string
		max   int
		want  error
	}{
		{"empty", "", 0, ErrMagic},
		{"wrong protocol", "TWILSOCKS V3.0 2\r\n{}\r\n", 0, ErrMagic},
		{"wrong version", "TWILSOCK V2.0 2\r\n{}\r\n", 0, ErrMagic},
		{"lowercase", "twilsock V3.0 2\r\n{}\r\n", 0, ErrMagic},
		{"no size", "TWILSOCK V3.0 \r\n{}\r\n", 0, ErrMagic},
		{"negative size", "TWILSOCK V3.0 -2\r\n{}\r\n", 0, ErrMagic},
		{"size with sign", "TWILSOCK V3.0 +2\r\n{}\r\n", 0, ErrMagic},
		{"size not a number", "TWILSOCK V3.0 ab\r\n{}\r\n", 0, ErrMagic},
		{"no CRLF", "TWILSOCK V3.0 2{}", 0, ErrMagic},
		{"huge size digits", "TWILSOCK V3.0 99999999999999999999\r\n{}", 0, ErrMagic},
		{"LF only", "TWILSOCK V3.0 2\n{}\n", 0, ErrMagic},
		{"header size too big", "TWILSOCK V3.0 99\r\n" + okHeader + "\r\n{}", 0, ErrHeaderSize},
		{"header size too small", "TWILSOCK V3.0 10\r\n" + okHeader + "\r\n{}", 0, ErrHeaderSize},
		{"header size one short", "TWILSOCK V3.0 " + strconv.Itoa(len(okHeader)-1) + "\r\n" + okHeader + "\r\n{}", 0, ErrHeaderSize},
		{"header size one long", "TWILSOCK V3.0 " + strconv.Itoa(len(okHeader)+1) + "\r\n" + okHeader + "\r\n{}", 0, ErrHeaderSize},
		{"header not JSON", string(jsFrame(`{"method":`, "")), 0, ErrHeaderJSON},
		{"header array", string(jsFrame(`["method"]`, "")), 0, ErrHeaderJSON},
		{"header two objects", string(jsFrame(`{"method":"a"}{}`, "")), 0, ErrHeaderJSON},
		{"no method", string(jsFrame(`{"id":"1"}`, "")), 0, ErrHeaderJSON},
		{"method not string", string(jsFrame(`{"method":1}`, "")), 0, ErrHeaderJSON},
		{"id not string", string(jsFrame(`{"method":"a","id":5}`, "")), 0, ErrHeaderJSON},
		{"payload_size string", string(jsFrame(`{"method":"a","payload_size":"2"}`, "{}")), 0, ErrHeaderJSON},
		{"payload_size negative", string(jsFrame(`{"method":"a","payload_size":-1}`, "")), 0, ErrHeaderJSON},
		{"payload_size fraction", string(jsFrame(`{"method":"a","payload_size":1.5}`, "{}")), 0, ErrHeaderJSON},
		{"payload_size lies high", string(jsFrame(`{"method":"a","payload_size":3}`, "{}")), 0, ErrPayloadSize},
		{"payload_size lies low", string(jsFrame(`{"method":"a","payload_size":1}`, "{}")), 0, ErrPayloadSize},
		{"payload without payload_size", string(jsFrame(`{"method":"a"}`, "{}")), 0, ErrPayloadSize},
		{"junk after CRLF", string(jsFrame(`{"method":"a","payload_size":2}`, "{}\r\nX")), 0, ErrPayloadSize},
		{"oversized", string(jsFrame(okHeader, "{}")), 20, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.frame), tc.max)
			if !errors.Is(err, tc.want) || f != nil {
				t.Fatalf("Parse = %+v, %v; want %v", f, err, tc.want)
			}
		})
	}
	// The limit is inclusive.
	fr := jsFrame(okHeader, "{}")
	if _, err := Parse(fr, len(fr)); err != nil {
		t.Fatalf("frame of exactly the limit: %v", err)
	}
}

func TestEncode(t *testing.T) {
	t.Run("init reply", func(t *testing.T) {
		r := &InitReply{
			Reply:        Reply{Header: Header{Method: MethodReply, ID: "TM1"}, Status: StatusOK()},
			Capabilities: []string{CapabilityClientUpdate},
		}
		b, err := Encode(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"method":"reply","id":"TM1","payload_size":0,"status":{"code":200,"status":"OK"},"capabilities":["client_update"]}`
		if string(b) != "TWILSOCK V3.0 "+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("error reply", func(t *testing.T) {
		r := &Reply{Header: Header{Method: MethodReply, ID: "TM2"}, Status: Status{Code: 401, Status: "UNAUTHORIZED", Description: "Invalid Access Token signature", ErrorCode: 20107}}
		b, _ := Encode(r, nil)
		if !bytes.Contains(b, []byte(`"status":{"code":401,"status":"UNAUTHORIZED","description":"Invalid Access Token signature","errorCode":20107}`)) {
			t.Fatalf("got %s", b)
		}
	})
	t.Run("upstream reply with payload round-trips", func(t *testing.T) {
		body := []byte(`{"identity":"alice","ü":1}`)
		r := &Reply{Header: Header{Method: MethodReply, ID: "TM3", PayloadType: "application/json"}, Status: StatusOK(),
			HTTPStatus: &Status{Code: 201, Status: "Created"}, HTTPHeaders: map[string]string{"Content-Type": "application/json"}}
		b, err := Encode(r, body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b, append(append([]byte{}, body...), '\r', '\n')) || r.PayloadSize != len(body) {
			t.Fatalf("got %q", b)
		}
		f, err := Parse(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		var back Reply
		if err := f.DecodeHeader(&back); err != nil || !bytes.Equal(f.Payload, body) || back.HTTPStatus.Code != 201 || back.PayloadSize != len(body) {
			t.Fatalf("back %+v %q %v", back, f.Payload, err)
		}
	})
	t.Run("notification, client_update, close, ping", func(t *testing.T) {
		for _, h := range []Encoder{
			&Notification{Header: Header{Method: MethodNotification, ID: "TM4"}, MessageType: "twilio.ipmsg.typing_indicator"},
			&ClientUpdate{Header: Header{Method: MethodClientUpdate, ID: "TM5"}, ClientUpdateType: ClientUpdateTokenAboutToExpire},
			&Close{Header: Header{Method: MethodClose, ID: "TM6"}, Status: &Status{Code: 410, Status: "TOKEN_EXPIRED", ErrorCode: 20104}},
			&Ping{Header: Header{Method: MethodPing, ID: "TM7"}},
		} {
			b, err := Encode(h, []byte(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(b, 0)
			if err != nil || f.Header.Method != h.common().Method || string(f.Payload) != `{"a":1}` {
				t.Fatalf("%s: %+v %v", b, f, err)
			}
		}
	})
	t.Run("no method", func(t *testing.T) {
		if _, err := Encode(&Ping{}, nil); !errors.Is(err, ErrHeaderJSON) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestMultiValue(t *testing.T) {
	var m map[string]MultiValue
	if err := json.Unmarshal([]byte(`{"a":"1","b":["x",null],"c":null}`), &m); err != nil {
		t.Fatal(err)
	}
	if m["a"].First() != "1" || len(m["b"]) != 2 || m["b"][1] != "" || m["c"].First() != "" || MultiValue(nil).First() != "" {
		t.Fatalf("%#v", m)
	}
	if err := json.Unmarshal([]byte(`{"a":5}`), &m); err == nil {
		t.Fatal("number accepted")
	}
	b, _ := json.Marshal(map[string]MultiValue{"a": {"1"}, "b": {"x", "y"}})
	if string(b) != `{"a":"1","b":["x","y"]}` {
		t.Fatalf("%s", b)
	}
}
