package sdkgo_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// The tests in this file check the participant rules Twilio documents (issue 14: the error
// dictionary, the Participant resource page, the Group Texting guide) through twilio-go, on
// both URL forms: /v1/Conversations/… and /v1/Services/{IS}/Conversations/….

// pfields are participant create parameters; "" leaves one out.
type pfields struct{ identity, address, proxy, projected string }

// ufields are participant update parameters; nil leaves one out.
type ufields struct {
	proxy, projected, identity *string
	lastRead                   *int
}

func sp(s string) *string { return &s }

// part is what the tests read of a participant, on either URL form.
type part struct {
	sid      string
	identity *string
	binding  map[string]any
	lastRead *int
}

func partOf(sid, identity *string, mb *interface{}, lastRead *int) part {
	p := part{sid: str(sid), identity: identity, lastRead: lastRead}
	if mb != nil && *mb != nil {
		p.binding, _ = (*mb).(map[string]any)
	}
	return p
}

// urlForm runs participant requests on one URL form.
type urlForm struct {
	name   string
	num    func(s string) string     // this form's own phone number for s (pairs are account-wide)
	conv   func(t *testing.T) string // a new conversation on this form's service
	create func(ch string, f pfields) (part, error)
	update func(ch, ref string, u ufields) (part, error)
	fetch  func(ch, ref string) (part, error)
	path   func(ch string) string                       // the participant list path
	send   func(t *testing.T, ch string) map[string]any // sends a message, returns its delivery summary
}

func urlForms(t *testing.T, env *env) []urlForm {
	short := urlForm{
		name: "short",
		num:  func(s string) string { return s },
		conv: func(t *testing.T) string { return *env.conversation(t, "").Sid },
		create: func(ch string, f pfields) (part, error) {
			p := &conversations.CreateConversationParticipantParams{}
			if f.identity != "" {
				p.SetIdentity(f.identity)
			}
			if f.address != "" {
				p.SetMessagingBindingAddress(f.address)
			}
			if f.proxy != "" {
				p.SetMessagingBindingProxyAddress(f.proxy)
			}
			if f.projected != "" {
				p.SetMessagingBindingProjectedAddress(f.projected)
			}
			r, err := env.api.CreateConversationParticipant(ch, p)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		update: func(ch, ref string, u ufields) (part, error) {
			p := &conversations.UpdateConversationParticipantParams{}
			if u.proxy != nil {
				p.SetMessagingBindingProxyAddress(*u.proxy)
			}
			if u.projected != nil {
				p.SetMessagingBindingProjectedAddress(*u.projected)
			}
			if u.identity != nil {
				p.SetIdentity(*u.identity)
			}
			if u.lastRead != nil {
				p.SetLastReadMessageIndex(*u.lastRead)
			}
			r, err := env.api.UpdateConversationParticipant(ch, ref, p)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		fetch: func(ch, ref string) (part, error) {
			r, err := env.api.FetchConversationParticipant(ch, ref)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		path: func(ch string) string { return "/v1/Conversations/" + ch + "/Participants" },
		send: func(t *testing.T, ch string) map[string]any { return summary(t, env.send(t, ch, "", "m").Delivery) },
	}
	svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("long form"))
	if err != nil {
		t.Fatal(err)
	}
	is := *svc.Sid
	long := urlForm{
		name: "long",
		num:  func(s string) string { return strings.Replace(s, "+1", "+2", 1) },
		conv: func(t *testing.T) string {
			c, err := env.api.CreateServiceConversation(is, &conversations.CreateServiceConversationParams{})
			if err != nil {
				t.Fatal(err)
			}
			return *c.Sid
		},
		create: func(ch string, f pfields) (part, error) {
			p := &conversations.CreateServiceConversationParticipantParams{}
			if f.identity != "" {
				p.SetIdentity(f.identity)
			}
			if f.address != "" {
				p.SetMessagingBindingAddress(f.address)
			}
			if f.proxy != "" {
				p.SetMessagingBindingProxyAddress(f.proxy)
			}
			if f.projected != "" {
				p.SetMessagingBindingProjectedAddress(f.projected)
			}
			r, err := env.api.CreateServiceConversationParticipant(is, ch, p)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		update: func(ch, ref string, u ufields) (part, error) {
			p := &conversations.UpdateServiceConversationParticipantParams{}
			if u.proxy != nil {
				p.SetMessagingBindingProxyAddress(*u.proxy)
			}
			if u.projected != nil {
				p.SetMessagingBindingProjectedAddress(*u.projected)
			}
			if u.identity != nil {
				p.SetIdentity(*u.identity)
			}
			if u.lastRead != nil {
				p.SetLastReadMessageIndex(*u.lastRead)
			}
			r, err := env.api.UpdateServiceConversationParticipant(is, ch, ref, p)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		fetch: func(ch, ref string) (part, error) {
			r, err := env.api.FetchServiceConversationParticipant(is, ch, ref)
			if err != nil {
				return part{}, err
			}
			return partOf(r.Sid, r.Identity, r.MessagingBinding, r.LastReadMessageIndex), nil
		},
		path: func(ch string) string { return "/v1/Services/" + is + "/Conversations/" + ch + "/Participants" },
		send: func(t *testing.T, ch string) map[string]any {
			m, err := env.api.CreateServiceConversationMessage(is, ch, (&conversations.CreateServiceConversationMessageParams{}).SetBody("m"))
			if err != nil {
				t.Fatal(err)
			}
			return summary(t, m.Delivery)
		},
	}
	return []urlForm{short, long}
}

// eachForm runs fn on every store engine and both URL forms.
func eachForm(t *testing.T, fn func(t *testing.T, env *env, f urlForm)) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		for _, f := range urlForms(t, env) {
			t.Run(f.name, func(t *testing.T) { fn(t, env, f) })
		}
	})
}

// Point 1: the same (address, proxy address) twice in one conversation is 409/50416 with the
// message SMS bridges parse, naming that conversation, as for a pair held by another one.
func TestDuplicateBindingIs50416(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch, other := f.conv(t), f.conv(t)
		sms := pfields{address: f.num("+15558675310"), proxy: f.num("+15017122661")}
		if _, err := f.create(ch, sms); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{ch, other} {
			_, err := f.create(c, sms)
			re := restError(t, err, 409, 50416)
			if want := "A binding for this participant and proxy address already exists in Conversation " + ch; re.Message != want {
				t.Errorf("adding the pair to %s: message %q, want %q", c, re.Message, want)
			}
		}
		// Changing another participant's proxy address onto a held pair: the same answer.
		p, err := f.create(ch, pfields{address: f.num("+15558675310"), proxy: f.num("+15017122662")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch, p.sid, ufields{proxy: sp(f.num("+15017122661"))})
		if re := restError(t, err, 409, 50416); !strings.HasSuffix(re.Message, "Conversation "+ch) {
			t.Errorf("update onto a held pair: %q", re.Message)
		}
	})
}

// Point 2: the Group Texting guide's three participant types, and a chat participant without
// a projected address refused in a Group MMS conversation (50434).
func TestGroupMMSParticipantTypes(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		// An unattached projected address: a Twilio number with no identity.
		num, err := f.create(ch, pfields{projected: f.num("+15017122661")})
		if err != nil {
			t.Fatalf("unattached projected address: %v", err)
		}
		if num.identity != nil || len(num.binding) != 2 || num.binding["type"] != "sms" || num.binding["projected_address"] != f.num("+15017122661") {
			t.Errorf("unattached projected address: identity %v binding %v", num.identity, num.binding)
		}
		if got, err := f.fetch(ch, num.sid); err != nil || got.binding["projected_address"] != f.num("+15017122661") {
			t.Fatalf("fetch: %v %v", err, got.binding)
		}
		// A chat participant with a projected address, an SMS participant with an address only.
		if _, err := f.create(ch, pfields{identity: "agent", projected: f.num("+15017122661")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.create(ch, pfields{address: f.num("+15550000001")}); err != nil {
			t.Fatal(err)
		}
		// A chat participant without a projected address: Twilio's error 50434.
		_, err = f.create(ch, pfields{identity: "plain"})
		restError(t, err, 400, 50434)
		// A message goes to the SMS participant; the unattached number is no recipient.
		if s := f.send(t, ch); s["total"] != float64(1) {
			t.Errorf("delivery summary = %v, want total 1", s)
		}
		// An address with a projected address is none of the three types.
		_, err = f.create(ch, pfields{address: f.num("+15550000002"), projected: f.num("+15017122661")})
		restError(t, err, 400, 50443)
		// Outside Group MMS a plain chat participant is fine.
		if _, err := f.create(f.conv(t), pfields{identity: "plain"}); err != nil {
			t.Fatal(err)
		}
	})
}

// Point 3: removing and adding binding fields on update, as the dictionary's causes say.
func TestBindingFieldUpdates(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		sms, err := f.create(ch, pfields{address: f.num("+15558675310"), proxy: f.num("+15017122661")})
		if err != nil {
			t.Fatal(err)
		}
		// "'null' value will remove it" (MessagingBinding.ProxyAddress, Participant resource).
		got, err := f.update(ch, sms.sid, ufields{proxy: sp("null")})
		if err != nil {
			t.Fatalf("remove proxy address: %v", err)
		}
		if got.binding["address"] != f.num("+15558675310") || got.binding["proxy_address"] != nil {
			t.Errorf("after removing the proxy address: %v", got.binding)
		}
		// The pair is free: another conversation may take it.
		if _, err := f.create(f.conv(t), pfields{address: f.num("+15558675310"), proxy: f.num("+15017122661")}); err != nil {
			t.Fatalf("freed pair: %v", err)
		}
		// 50440: the participant does not have a proxy address to remove...
		_, err = f.update(ch, sms.sid, ufields{proxy: sp("null")})
		if re := restError(t, err, 400, 50440); !strings.HasPrefix(re.Message, "Failed to remove the proxy address of a participant") {
			t.Errorf("50440 message %q", re.Message)
		}
		// ... or is not an SMS participant.
		chat, err := f.create(ch, pfields{identity: "dave"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch, chat.sid, ufields{proxy: sp("null")})
		restError(t, err, 400, 50440)
		wa, err := f.create(ch, pfields{address: f.num("whatsapp:+15558675311"), proxy: f.num("whatsapp:+15017122661")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch, wa.sid, ufields{proxy: sp("null")})
		restError(t, err, 400, 50440)
		// 50441: adding a proxy address to a participant without a user address.
		_, err = f.update(ch, chat.sid, ufields{proxy: sp(f.num("+15017122661"))})
		if re := restError(t, err, 400, 50441); !strings.HasPrefix(re.Message, "Failed to add a proxy address to a participant") {
			t.Errorf("50441 message %q", re.Message)
		}
		// An address-only participant has an address: it may get a proxy address again.
		got, err = f.update(ch, sms.sid, ufields{proxy: sp(f.num("+15017122663"))})
		if err != nil || got.binding["proxy_address"] != f.num("+15017122663") {
			t.Fatalf("add proxy address to an address-only participant: %v %v", err, got.binding)
		}
		// 50442: removing a projected address the participant does not have.
		_, err = f.update(ch, chat.sid, ufields{projected: sp("null")})
		if re := restError(t, err, 400, 50442); !strings.HasPrefix(re.Message, "Failed to remove the projected address of a participant") {
			t.Errorf("50442 message %q", re.Message)
		}
		_, err = f.update(ch, sms.sid, ufields{projected: sp("null")})
		restError(t, err, 400, 50442)
		// With one it is removed.
		if _, err := f.update(ch, chat.sid, ufields{projected: sp(f.num("+15017122661"))}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.update(ch, chat.sid, ufields{projected: sp("null")}); err != nil || got.binding != nil {
			t.Fatalf("remove projected address: %v %v", err, got.binding)
		}
		// 50443: a projected address on a participant with a messaging binding address.
		_, err = f.update(ch, sms.sid, ufields{projected: sp(f.num("+15017122661"))})
		restError(t, err, 400, 50443)
		// Nothing refused changed the participants.
		if got, err := f.fetch(ch, sms.sid); err != nil || got.binding["proxy_address"] != f.num("+15017122663") || got.binding["projected_address"] != nil {
			t.Errorf("sms participant after refused updates: %v %v", err, got.binding)
		}
	})
}

// Issue 14: an Identity added to an unattached projected address participant, as error
// 50444's causes allow (it is refused only on a participant that has an identity or has no
// projected address), and a projected address removed from a chat participant while the
// conversation stays Group MMS, refused with 50442.
func TestGroupMMSIdentityAndProjectedRemoval(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		num, err := f.create(ch, pfields{projected: f.num("+15017122661")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.update(ch, num.sid, ufields{identity: sp("late-agent")})
		if err != nil {
			t.Fatalf("identity on an unattached projected address: %v", err)
		}
		if got.sid != num.sid || got.identity == nil || *got.identity != "late-agent" || got.binding["projected_address"] != f.num("+15017122661") ||
			got.binding["address"] != nil {
			t.Errorf("after adding the identity: %+v", got)
		}
		// It is a chat participant now: fetched by its identity.
		if byID, err := f.fetch(ch, "late-agent"); err != nil || byID.sid != num.sid {
			t.Errorf("fetch by the new identity: %v %+v", err, byID)
		}
		// 50444's causes: an identity already there...
		_, err = f.update(ch, num.sid, ufields{identity: sp("other")})
		if re := restError(t, err, 400, 50444); !strings.HasPrefix(re.Message, "Failed to add an identity to a participant") {
			t.Errorf("50444 message %q", re.Message)
		}
		// ... or no projected address (an SMS participant, an address-only one).
		sms, err := f.create(ch, pfields{address: f.num("+15550000011")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch, sms.sid, ufields{identity: sp("sms-person")})
		restError(t, err, 400, 50444)
		// An identity the conversation already has: 409/50433; nothing changes.
		num2, err := f.create(ch, pfields{projected: f.num("+15017122662")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch, num2.sid, ufields{identity: sp("late-agent")})
		restError(t, err, 409, 50433)
		if got, err := f.fetch(ch, num2.sid); err != nil || got.identity != nil {
			t.Errorf("after a refused identity: %v %+v", err, got)
		}
		// Removing late-agent's projected address would leave a chat participant without one
		// in a Group MMS conversation (create's 50434): refused with 50442.
		_, err = f.update(ch, num.sid, ufields{projected: sp("null")})
		if re := restError(t, err, 400, 50442); !strings.Contains(re.Message, "Group MMS") {
			t.Errorf("50442 message %q", re.Message)
		}
		if got, err := f.fetch(ch, num.sid); err != nil || got.binding["projected_address"] != f.num("+15017122661") {
			t.Errorf("after a refused removal: %v %+v", err, got)
		}
		// An address-only participant alone keeps a conversation Group MMS.
		ch2 := f.conv(t)
		agent, err := f.create(ch2, pfields{identity: "agent", projected: f.num("+15017122661")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.create(ch2, pfields{address: f.num("+15550000012")}); err != nil {
			t.Fatal(err)
		}
		_, err = f.update(ch2, agent.sid, ufields{projected: sp("null")})
		restError(t, err, 400, 50442)
		// A chat participant that alone made the conversation Group MMS may lose it.
		ch3 := f.conv(t)
		solo, err := f.create(ch3, pfields{identity: "solo", projected: f.num("+15017122661")})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.update(ch3, solo.sid, ufields{projected: sp("null")}); err != nil || got.binding != nil {
			t.Fatalf("remove the only projected address: %v %+v", err, got)
		}
	})
}

// Point 4: the same chat participant (identity and projected address) twice in a Group MMS
// conversation is 409/50437, as are the other duplicates its dictionary entry lists.
func TestGroupDuplicateIs50437(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		agent := pfields{identity: "agent", projected: f.num("+15017122661")}
		if _, err := f.create(ch, agent); err != nil {
			t.Fatal(err)
		}
		_, err := f.create(ch, agent)
		if re := restError(t, err, 409, 50437); !strings.HasPrefix(re.Message, "Group Participant already exists") {
			t.Errorf("50437 message %q", re.Message)
		}
		if _, err := f.create(ch, pfields{address: f.num("+15550000001")}); err != nil {
			t.Fatal(err)
		}
		_, err = f.create(ch, pfields{address: f.num("+15550000001")})
		restError(t, err, 409, 50437)
		// The same identity with another projected address: the identity is taken (50433).
		_, err = f.create(ch, pfields{identity: "agent", projected: f.num("+15017122662")})
		restError(t, err, 409, 50433)
	})
}

// Point 5: the read horizon is not tied to existing messages.
func TestReadHorizonBeforeMessages(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		p, err := f.create(ch, pfields{identity: "early"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 25} {
			got, err := f.update(ch, p.sid, ufields{lastRead: &n})
			if err != nil || got.lastRead == nil || *got.lastRead != n {
				t.Fatalf("LastReadMessageIndex %d with no message: %v %v", n, err, got.lastRead)
			}
		}
		f.send(t, ch)
		if got, err := f.fetch(ch, p.sid); err != nil || got.lastRead == nil || *got.lastRead != 25 {
			t.Fatalf("horizon after a message: %v %v", err, got.lastRead)
		}
	})
}

func TestUserConversationReadHorizonBeforeMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		c := env.conversation(t, "")
		p := env.chat(t, *c.Sid, "reader")
		users, err := env.api.ListServiceUser(*c.ChatServiceSid, nil)
		if err != nil || len(users) != 1 {
			t.Fatalf("users: %v %d", err, len(users))
		}
		us := *users[0].Sid
		uc, err := env.api.UpdateUserConversation(us, *c.Sid, (&conversations.UpdateUserConversationParams{}).SetLastReadMessageIndex(3))
		if err != nil || uc.LastReadMessageIndex == nil || *uc.LastReadMessageIndex != 3 {
			t.Fatalf("user conversation horizon with no message: %v", err)
		}
		suc, err := env.api.UpdateServiceUserConversation(*c.ChatServiceSid, us, *c.Sid, (&conversations.UpdateServiceUserConversationParams{}).SetLastReadMessageIndex(0))
		if err != nil || suc.LastReadMessageIndex == nil || *suc.LastReadMessageIndex != 0 {
			t.Fatalf("service user conversation horizon with no message: %v", err)
		}
		got, err := env.api.FetchConversationParticipant(*c.Sid, *p.Sid)
		if err != nil || got.LastReadMessageIndex == nil || *got.LastReadMessageIndex != 0 {
			t.Fatalf("participant horizon: %v", err)
		}
	})
}

// Point 7: PageSize, JSON bodies, SMS addresses, SID-shaped identities.
func TestSayWhatIsAccepted(t *testing.T) {
	eachForm(t, func(t *testing.T, env *env, f urlForm) {
		ch := f.conv(t)
		// The participant list's maximum page size is the spec's 100; more is read as 100.
		for _, c := range []struct {
			size, want int
		}{{100, 100}, {101, 100}, {5000, 100}, {7, 7}} {
			st, body := env.srv.Do(t, "GET", f.path(ch)+"?PageSize="+itoa(c.size), nil)
			var page struct {
				Meta struct {
					PageSize int    `json:"page_size"`
					URL      string `json:"url"`
				} `json:"meta"`
			}
			if st != 200 || json.Unmarshal(body, &page) != nil || page.Meta.PageSize != c.want || !strings.Contains(page.Meta.URL, "PageSize="+itoa(c.want)+"&") {
				t.Errorf("PageSize=%d: %d %s", c.size, st, body)
			}
		}
		st, body := env.srv.Do(t, "GET", f.path(ch)+"?PageSize=0", nil)
		if st != 400 || !strings.Contains(string(body), "PageSize must be a positive integer") {
			t.Errorf("PageSize=0: %d %s", st, body)
		}
		// A JSON body is refused, naming the form encoding the API takes; nothing is created.
		req, err := http.NewRequest("POST", env.srv.URL+f.path(ch), strings.NewReader(`{"Identity":"json-user"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  int    `json:"status"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 400 || e.Code != 20001 || e.Status != 400 || !strings.Contains(e.Message, "application/x-www-form-urlencoded") {
			t.Errorf("JSON body: %d %+v %v", resp.StatusCode, e, err)
		}
		if _, err := f.fetch(ch, "json-user"); err == nil {
			t.Errorf("a JSON body created a participant")
		}
		// SMS addresses are E.164: '+' and 3 to 15 digits.
		_, err = f.create(ch, pfields{address: "15558675310", proxy: f.num("+15017122661")})
		restError(t, err, 400, 50407)
		_, err = f.create(ch, pfields{address: f.num("+15558675310"), proxy: "15017122661"})
		restError(t, err, 400, 50408)
		_, err = f.create(ch, pfields{address: "whatsapp:15558675310", proxy: f.num("whatsapp:+15017122661")})
		restError(t, err, 400, 50407)
		// An identity shaped like a participant SID could never be fetched by: refused.
		_, err = f.create(ch, pfields{identity: "MB0123456789abcdef0123456789abcdef"})
		if re := restError(t, err, 400, 50203); !strings.Contains(re.Message, "Participant SID") {
			t.Errorf("50203 message %q", re.Message)
		}
		// Anything else starting with MB is an identity like any other.
		if _, err := f.create(ch, pfields{identity: "MBA"}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.fetch(ch, "MBA"); err != nil || str(got.identity) != "MBA" {
			t.Fatalf("fetch by identity MBA: %v", err)
		}
	})
}
