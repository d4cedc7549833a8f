package conv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestParticipantReadsBySidStayInScope checks the one-read path of participant fetch and
// list by conversation SID: another account's or another service's conversation is a 404 as
// if it did not exist, an empty page still tells an existing conversation from a missing one.
func TestParticipantReadsBySidStayInScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		svc := conv.NewService(e.Open(t), conv.Options{})
		const other = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		for _, a := range []string{acctSid, other} {
			if _, err := svc.EnsureAccount(ctx, a, "tok"); err != nil {
				t.Fatal(err)
			}
		}
		mine := conv.Scope{AccountSid: acctSid}
		c, err := svc.CreateConversation(ctx, mine, conv.ConversationParams{}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		empty, err := svc.CreateConversation(ctx, mine, conv.ConversationParams{}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		id := "alice"
		p, err := svc.CreateParticipant(ctx, mine, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		name := "second"
		svc2, err := svc.CreateService(ctx, acctSid, &name)
		if err != nil {
			t.Fatal(err)
		}
		notFound := func(what string, err error) {
			t.Helper()
			var e *conv.Error
			if !errors.As(err, &e) || e.Code != 20404 {
				t.Errorf("%s: err = %v, want 20404", what, err)
			}
		}
		for _, sc := range []conv.Scope{{AccountSid: other}, {AccountSid: acctSid, ServiceSid: svc2.Sid}} {
			for _, ref := range []string{p.Sid, id} {
				_, err := svc.FetchParticipant(ctx, sc, c.Sid, ref)
				notFound("fetch out of scope by "+ref, err)
			}
			_, err := svc.ListParticipants(ctx, sc, c.Sid, conv.PageQuery{Size: 50})
			notFound("list out of scope", err)
		}
		for _, ref := range []string{p.Sid, id} {
			if got, err := svc.FetchParticipant(ctx, mine, c.Sid, ref); err != nil || got.Sid != p.Sid {
				t.Errorf("fetch by %s: %v %v", ref, got, err)
			}
		}
		if ps, err := svc.ListParticipants(ctx, mine, empty.Sid, conv.PageQuery{Size: 50}); err != nil || len(ps) != 0 {
			t.Errorf("list of an empty conversation: %v %v", ps, err)
		}
		_, err = svc.ListParticipants(ctx, mine, "CHffffffffffffffffffffffffffffffff", conv.PageQuery{Size: 50})
		notFound("list of a missing conversation", err)
		_, err = svc.FetchParticipant(ctx, mine, empty.Sid, p.Sid)
		notFound("fetch through the wrong conversation", err)
	})
}
