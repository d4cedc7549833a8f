package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

func (a *API) createConversationWithParticipants(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	participants := f.list("Participant")
	if err := conv.CheckParticipantsPerRequest(len(participants)); err != nil {
		return err
	}
	ins := make([]conv.ParticipantCreate, len(participants))
	for i, raw := range participants {
		if ins[i], err = parseParticipantJSON(i, raw); err != nil {
			return err
		}
	}
	p, err := conversationParams(f)
	if err != nil {
		return err
	}
	c, _, err := a.svc.CreateConversationWithParticipants(r.Context(), rc.scope, p, ins, o)
	if err != nil {
		return err
	}
	out := rc.conversation(c)
	u := out.URL
	out.Links = map[string]string{"participants": u + "/Participants", "messages": u + "/Messages", "webhooks": u + "/Webhooks"}
	// Twilio answers 202 Accepted when participants are given (it adds them asynchronously);
	// Parley has created them all before answering.
	status := http.StatusCreated
	if len(participants) > 0 {
		status = http.StatusAccepted
	}
	writeJSON(w, status, out)
	return nil
}

// participantRequestJSON is one Participant parameter of ConversationWithParticipants: the
// Participant resource's create parameters as a JSON object with snake_case keys, e.g.
// {"identity":"alice"} or {"messaging_binding":{"address":"+15558675310","proxy_address":"+15017122661"}}.
type participantRequestJSON struct {
	Identity         *string          `json:"identity"`
	Attributes       *json.RawMessage `json:"attributes"`
	RoleSid          *string          `json:"role_sid"`
	DateCreated      *string          `json:"date_created"`
	DateUpdated      *string          `json:"date_updated"`
	MessagingBinding *struct {
		Address          *string `json:"address"`
		ProxyAddress     *string `json:"proxy_address"`
		ProjectedAddress *string `json:"projected_address"`
	} `json:"messaging_binding"`
}

// parseParticipantJSON decodes the i-th (from 0) Participant parameter into participant
// create fields. "attributes" may be a JSON string holding the attributes or the attributes
// object itself. Error: 50424 when raw is not such a JSON object (unknown keys included).
func parseParticipantJSON(i int, raw string) (conv.ParticipantCreate, error) {
	bad := func(why string) error {
		return conv.Invalid(50424, "One of the JSON requests for participant creation is invalid: Participant %d %s", i+1, why)
	}
	if !json.Valid([]byte(raw)) {
		return conv.ParticipantCreate{}, bad("is not valid JSON")
	}
	if !bytes.HasPrefix(bytes.TrimSpace([]byte(raw)), []byte("{")) {
		return conv.ParticipantCreate{}, bad("is not a JSON object")
	}
	var pj participantRequestJSON
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pj); err != nil {
		return conv.ParticipantCreate{}, bad(fmt.Sprintf("is not a participant JSON object (identity, attributes, role_sid, messaging_binding.address, messaging_binding.proxy_address, messaging_binding.projected_address): %v", err))
	}
	in := conv.ParticipantCreate{Identity: pj.Identity, RoleSid: pj.RoleSid}
	for _, d := range []struct {
		raw  *string
		dst  **time.Time
		name string
		code int
	}{{pj.DateCreated, &in.DateCreated, "DateCreated", conv.CodeBadDateCreated}, {pj.DateUpdated, &in.DateUpdated, "DateUpdated", conv.CodeBadDateUpdated}} {
		if d.raw == nil {
			continue
		}
		t, err := conv.ParseDateParam(*d.raw, d.name, d.code)
		if e, ok := conv.AsError(err); ok {
			return conv.ParticipantCreate{}, conv.Invalid(e.Code, "Participant %d: %s", i+1, e.Message)
		} else if err != nil {
			return conv.ParticipantCreate{}, err
		}
		*d.dst = &t
	}
	if b := pj.MessagingBinding; b != nil {
		in.Address, in.ProxyAddress, in.ProjectedAddress = b.Address, b.ProxyAddress, b.ProjectedAddress
	}
	if a := pj.Attributes; a != nil && !bytes.Equal(bytes.TrimSpace(*a), []byte("null")) {
		var str string
		if err := json.Unmarshal(*a, &str); err == nil {
			in.Attributes = &str
		} else {
			var buf bytes.Buffer
			if err := json.Compact(&buf, *a); err != nil {
				return conv.ParticipantCreate{}, bad("has invalid attributes")
			}
			v := buf.String()
			in.Attributes = &v
		}
	}
	return in, nil
}
