package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// formDate parses an optional date parameter (nil when absent). Error: code (400).
func formDate(f form, key string, code int) (*time.Time, error) {
	v := f.str(key)
	if v == nil {
		return nil, nil
	}
	t, ok := conv.ParseDate(*v)
	if !ok {
		return nil, conv.Errorf(conv.KindInvalid, code, "Invalid %s parameter: %q is not an ISO 8601 date", key, *v)
	}
	return &t, nil
}

// formClearable reads a MessagingBinding address that update may remove: "null" (or an
// empty value) clears it.
func formClearable(f form, key string) conv.Opt[string] {
	switch v := f.str(key); {
	case v == nil:
		return conv.Opt[string]{}
	case *v == "null" || *v == "":
		return conv.Clear[string]()
	default:
		return conv.Set(*v)
	}
}

// formReadIndex reads LastReadMessageIndex: a non-negative integer, or "null" to clear it.
// Error: 50421.
func formReadIndex(f form) (conv.Opt[int64], error) {
	v := f.str("LastReadMessageIndex")
	if v == nil {
		return conv.Opt[int64]{}, nil
	}
	if *v == "null" {
		return conv.Clear[int64](), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*v), 10, 64)
	if err != nil || n < 0 {
		return conv.Opt[int64]{}, conv.Errorf(conv.KindInvalid, 50421, "Invalid last read message index format: %q", *v)
	}
	return conv.Set(n), nil
}

// formReadTimestamp reads LastReadTimestamp: a date, or "null" to clear it. Error: 50405.
func formReadTimestamp(f form) (conv.Opt[time.Time], error) {
	v := f.str("LastReadTimestamp")
	switch {
	case v == nil:
		return conv.Opt[time.Time]{}, nil
	case *v == "null":
		return conv.Clear[time.Time](), nil
	}
	t, ok := conv.ParseDate(*v)
	if !ok {
		return conv.Opt[time.Time]{}, conv.Errorf(conv.KindInvalid, 50405, "Invalid last read timestamp format: %q", *v)
	}
	return conv.Set(t), nil
}

// participantCreate decodes the participant create form. Errors: 50308/50309 (dates).
func participantCreate(f form) (conv.ParticipantCreate, error) {
	in := conv.ParticipantCreate{
		Identity: f.str("Identity"), Address: f.str("MessagingBinding.Address"), ProxyAddress: f.str("MessagingBinding.ProxyAddress"),
		ProjectedAddress: f.str("MessagingBinding.ProjectedAddress"), Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid"),
	}
	var err error
	if in.DateCreated, err = formDate(f, "DateCreated", 50308); err != nil {
		return in, err
	}
	in.DateUpdated, err = formDate(f, "DateUpdated", 50309)
	return in, err
}

// participantUpdate decodes the participant update form.
// Errors: 50421 (index), 50405 (timestamp), 50308/50309 (dates).
func participantUpdate(f form) (conv.ParticipantUpdate, error) {
	in := conv.ParticipantUpdate{
		Identity: f.str("Identity"), Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid"),
		ProxyAddress:     formClearable(f, "MessagingBinding.ProxyAddress"),
		ProjectedAddress: formClearable(f, "MessagingBinding.ProjectedAddress"),
	}
	var err error
	if in.LastReadMessageIndex, err = formReadIndex(f); err != nil {
		return in, err
	}
	if in.LastReadTimestamp, err = formReadTimestamp(f); err != nil {
		return in, err
	}
	if in.DateCreated, err = formDate(f, "DateCreated", 50308); err != nil {
		return in, err
	}
	in.DateUpdated, err = formDate(f, "DateUpdated", 50309)
	return in, err
}

func (a *API) createParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in, err := participantCreate(f)
	if err != nil {
		return err
	}
	p, err := a.svc.CreateParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.participant(p))
	return nil
}

func (a *API) fetchParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := a.svc.FetchParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.participant(p))
	return nil
}

func (a *API) listParticipants(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	convRef := r.PathValue("ConversationSid")
	items, err := a.svc.ListParticipants(r.Context(), rc.scope, convRef, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations/" + escapeSegment(convRef) + "/Participants"
	return writeListBuf(w, a.pageBufs, p, items, func(x *conv.Participant) int64 { return x.Seq }, listURL, nil, "participants", rc.participant)
}

func (a *API) updateParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in, err := participantUpdate(f)
	if err != nil {
		return err
	}
	p, err := a.svc.UpdateParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.participant(p))
	return nil
}

func (a *API) deleteParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
