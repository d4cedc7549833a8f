package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

// FuzzSessionFrames feeds an authenticated session arbitrary frames, then a close: the session
// never panics and always ends.
func FuzzSessionFrames(f *testing.F) {
	for _, seed := range []string{
		`{"method":"message","id":"1","http_request":{"host":"aim.us1.twilio.com","path":"/Client/v2/Configuration","method":"GET"}}`,
		`{"method":"message","id":"2","http_request":{"host":5}}`,
		`{"method":"update","id":"3","token":7}`,
		`{"method":"update","id":"4","token":"x.y.z"}`,
		`{"method":"init","id":"5","token":""}`,
		`{"method":"reply","id":"6","status":null}`,
		`{"method":"put_notification_ctx","id":"7"}`,
		`{"method":"telemetry.v1","id":"8","events":[]}`,
		`{"method":"zzz"}`,
	} {
		f.Add([]byte(seed), []byte(`{}`))
	}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		clock := newFakeClock()
		g := New(accesstoken.NewVerifier(keyMap{keySid: {acct, secret}}, clock.Now), configRouter(), nil,
			Options{PingInterval: -1, Clock: clock, Logger: quietLogger()})
		conn := newMemConn(false)
		conn.written = make(chan []byte, 1024)
		s := newSession(g, conn)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		go s.run(ctx)
		tok, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: "fz", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, clock.Now())
		init, _ := twilsock.Encode(&twilsock.Init{Header: twilsock.Header{Method: twilsock.MethodInit, ID: "TMi"}, Token: tok}, nil)
		frame := append([]byte(twilsock.Prefix+itoa(len(header))+"\r\n"), header...)
		frame = append(append(frame, "\r\n"...), payload...)
		bye, _ := twilsock.Encode(&twilsock.Close{Header: twilsock.Header{Method: twilsock.MethodClose, ID: "TMc"}}, nil)
		for _, b := range [][]byte{init, frame, bye} {
			select {
			case conn.in <- b:
			case <-s.Done():
			}
		}
		select {
		case <-s.Done():
		case <-ctx.Done():
			t.Fatal("session did not end")
		}
	})
}
