package sqlite_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// TestPackedParticipantRows checks that participant reads, which SQLite answers as one packed
// column, return every field exactly as written, whatever the strings hold (the packing's
// separators, NUL bytes, invalid UTF-8, digits) and with NULLs, empty strings and negative
// or large integers.
func TestPackedParticipantRows(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "packed.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := conv.NewService(st, conv.Options{})
	acct, err := svc.EnsureDevAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateConversation(ctx, conv.Scope{AccountSid: acct.Sid}, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	strp := func(s string) *string { return &s }
	intp := func(n int64) *int64 { return &n }
	nasty := []string{"", "n", "-", ",", ":", "12:", "3:abc", "n,1:x", "a\x00b", "\xff\xfe", "日本語 🎉", "1,2,3", "-5,"}
	var want []*conv.Participant
	for i, s := range nasty {
		p := &conv.Participant{
			Sid: conv.RandomSIDs{}.New(conv.PrefixParticipant), AccountSid: c.AccountSid, ServiceSid: c.ServiceSid, ConversationSid: c.Sid,
			Attributes: s, RoleSid: s, DateCreated: time.Unix(int64(1_700_000_000+i), 0).UTC(), DateUpdated: time.Unix(int64(-i), 0).UTC(),
		}
		switch i % 3 {
		case 0:
			p.Identity, p.LastReadMessageIndex, p.LastReadTimestamp = strp(s+"-id"), intp(int64(-i)), strp(s)
		case 1:
			p.Identity, p.LastReadMessageIndex = strp(s), intp(1<<62+int64(i))
		default:
			p.Binding = &conv.Binding{Type: "sms", Address: s, ProxyAddress: s + s, ProjectedAddress: s}
		}
		if err := st.WithTx(ctx, func(tx conv.Store) error { return tx.CreateParticipant(ctx, p) }); err != nil {
			t.Fatalf("create %q: %v", s, err)
		}
		want = append(want, p)
	}
	for _, p := range want {
		got, err := st.GetParticipant(ctx, c.Sid, p.Sid)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("GetParticipant(%s) = %+v, %v\nwant %+v", p.Sid, got, err, p)
		}
		if p.Identity != nil {
			got, err := st.GetParticipantByIdentity(ctx, c.Sid, *p.Identity)
			if err != nil || !reflect.DeepEqual(got, p) {
				t.Fatalf("GetParticipantByIdentity(%q) = %+v, %v\nwant %+v", *p.Identity, got, err, p)
			}
		}
	}
	got, err := st.ListParticipants(ctx, c.Sid, conv.PageQuery{Size: 100})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ListParticipants = %+v, %v\nwant %+v", got, err, want)
	}
}
