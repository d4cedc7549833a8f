package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestMessageMediaSids checks a message create with several media items (the client SDK's
// media_sids, conv.MessageCreate.MediaSids): order kept, and bad lists refused with nothing
// stored or attached.
func TestMessageMediaSids(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		ctx := context.Background()
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		sc := conv.Scope{AccountSid: testserver.AccountSid}
		c, err := srv.Service.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a := upload(t, srv, is, []byte("first"), "image/png")
		b := upload(t, srv, is, []byte("second!"), "text/plain")
		code := func(err error) int {
			if e, ok := conv.AsError(err); ok {
				return e.Code
			}
			return 0
		}
		many := make([]string, conv.MaxMessageMedia+1)
		for i := range many {
			many[i] = "ME" + strings.Repeat("0", 31) + string(rune('a'+i%6))
		}
		for _, tc := range []struct {
			sids []string
			code int
		}{
			{[]string{a.Sid, a.Sid}, 50508},
			{[]string{a.Sid, "ME" + strings.Repeat("0", 32)}, 50507},
			{[]string{a.Sid, "nope"}, 50510},
			{many, 50510},
		} {
			if _, err := srv.Service.CreateMessage(ctx, sc, c.Sid, conv.MessageCreate{MediaSids: tc.sids}, conv.WriteOptions{}); code(err) != tc.code {
				t.Errorf("MediaSids %v: %v, want %d", tc.sids, err, tc.code)
			}
		}
		if ms, err := srv.Service.ListMessages(ctx, sc, c.Sid, conv.MessageQuery{PageQuery: conv.PageQuery{Size: 10}}); err != nil || len(ms) != 0 {
			t.Fatalf("messages after refused creates: %d %v", len(ms), err)
		}
		m, err := srv.Service.CreateMessage(ctx, sc, c.Sid, conv.MessageCreate{MediaSid: &b.Sid, MediaSids: []string{a.Sid}}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Media) != 2 || m.Media[0].Sid != b.Sid || m.Media[1].Sid != a.Sid || m.Media[0].Size != 7 || m.Media[1].ContentType != "image/png" {
			t.Errorf("media: %+v", m.Media)
		}
		st, body := srv.Do(t, "GET", "/v1/Conversations/"+c.Sid+"/Messages/"+m.Sid, nil)
		if st != 200 || !strings.Contains(string(body), `"media":[{"sid":"`+b.Sid+`"`) {
			t.Errorf("REST message: %d %s", st, body)
		}
	})
}
