package conv

import (
	"testing"
	"time"
)

func tp(t time.Time) *time.Time { return &t }

func TestFireTimers(t *testing.T) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		c           Conversation
		now         time.Time
		changed     bool
		state       string
		inactive    *time.Time
		closed      *time.Time
		dateUpdated time.Time
	}{
		{"nothing due", Conversation{State: StateActive, DateInactive: tp(t0.Add(time.Minute)), DateUpdated: t0}, t0.Add(59 * time.Second),
			false, StateActive, tp(t0.Add(time.Minute)), nil, t0},
		{"inactive due", Conversation{State: StateActive, DateInactive: tp(t0.Add(time.Minute)), DateClosed: tp(t0.Add(time.Hour)), DateUpdated: t0},
			t0.Add(time.Minute), true, StateInactive, nil, tp(t0.Add(time.Hour)), t0.Add(time.Minute)},
		{"inactive due on an inactive conversation", Conversation{State: StateInactive, DateInactive: tp(t0.Add(time.Minute)), DateUpdated: t0},
			t0.Add(time.Hour), false, StateInactive, nil, nil, t0},
		{"closed due wins", Conversation{State: StateActive, DateInactive: tp(t0.Add(time.Minute)), DateClosed: tp(t0.Add(10 * time.Minute)),
			TimerInactive: "PT1M", TimerClosed: "PT10M", DateUpdated: t0}, t0.Add(time.Hour), true, StateClosed, nil, nil, t0.Add(10 * time.Minute)},
		{"date_updated never goes back", Conversation{State: StateActive, DateClosed: tp(t0.Add(10 * time.Minute)), DateUpdated: t0.Add(time.Hour)},
			t0.Add(2 * time.Hour), true, StateClosed, nil, nil, t0.Add(time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if due := timersDue(&c, tc.now); due != (tc.name != "nothing due") {
				t.Errorf("timersDue = %v", due)
			}
			if got := fireTimers(&c, tc.now); got != tc.changed {
				t.Errorf("changed = %v, want %v", got, tc.changed)
			}
			if c.State != tc.state || !equalTime(c.DateInactive, tc.inactive) || !equalTime(c.DateClosed, tc.closed) || !c.DateUpdated.Equal(tc.dateUpdated) {
				t.Errorf("after: state %s inactive %v closed %v updated %v", c.State, c.DateInactive, c.DateClosed, c.DateUpdated)
			}
			if c.State == StateClosed && (c.TimerInactive != "" || c.TimerClosed != "") {
				t.Errorf("closed conversation keeps timers %q %q", c.TimerInactive, c.TimerClosed)
			}
		})
	}
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func TestValidatePermissions(t *testing.T) {
	got, err := validatePermissions(RoleTypeConversation, []string{"sendMessage", "leaveConversation", "sendMessage"})
	if err != nil || len(got) != 2 || got[0] != "sendMessage" || got[1] != "leaveConversation" {
		t.Errorf("validatePermissions = %v, %v", got, err)
	}
	for _, tc := range []struct {
		typ   string
		perms []string
		code  int
	}{
		{RoleTypeConversation, nil, 20001},
		{RoleTypeConversation, []string{"createConversation"}, 50104},
		{RoleTypeService, []string{"sendMessage"}, 50104},
		{RoleTypeService, []string{"joinConversation", ""}, 50104},
	} {
		_, err := validatePermissions(tc.typ, tc.perms)
		if e, ok := AsError(err); !ok || e.Code != tc.code {
			t.Errorf("validatePermissions(%s, %q) = %v, want %d", tc.typ, tc.perms, err, tc.code)
		}
	}
	for _, p := range ServicePermissions {
		if _, err := validatePermissions(RoleTypeService, []string{p}); err != nil {
			t.Errorf("service permission %s: %v", p, err)
		}
	}
	for _, p := range ConversationPermissions {
		if _, err := validatePermissions(RoleTypeConversation, []string{p}); err != nil {
			t.Errorf("conversation permission %s: %v", p, err)
		}
	}
}
