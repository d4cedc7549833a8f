package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
)

// POST /parley/v1/Tokens mints a chat access token for the Conversations client SDK, signed
// with the account's Parley signing key (conv.EnsureSigningKey):
//
//	Identity   (required) the user the token is for
//	ServiceSid (optional) the Conversation Service (IS…); default: the account's default service
//	Ttl        (optional) validity in seconds, 1..86400 (Twilio's cap); default 3600
//
// It answers 201 {"token","identity","chat_service_sid","expires"}. Validity is wall-clock time
// (the emulated clock of /parley/v1/Clock does not apply to credentials).

type tokenJSON struct {
	Token          string `json:"token"`
	Identity       string `json:"identity"`
	ChatServiceSid string `json:"chat_service_sid"`
	Expires        string `json:"expires"`
}

func (p *Parley) tokenRoutes() { p.api.route("POST", "/parley/v1/Tokens", p.createToken) }

func (p *Parley) createToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := controlForm(w, r, "Identity", "ServiceSid", "Ttl")
	if err != nil {
		return err
	}
	id := f.str("Identity")
	if id == nil || *id == "" {
		return conv.Errorf(conv.KindInvalid, 20001, "Missing required parameter Identity in the post body")
	}
	ttl := time.Hour
	if s := f.str("Ttl"); s != nil {
		n, err := strconv.Atoi(*s)
		if err != nil || n < 1 || n > 86400 {
			return badParam("Ttl must be a number of seconds from 1 to 86400, not %q", *s)
		}
		ttl = time.Duration(n) * time.Second
	}
	sc := conv.Scope{AccountSid: rc.scope.AccountSid}
	if s := f.str("ServiceSid"); s != nil {
		sc.ServiceSid = *s
	}
	svc, err := p.api.svc.ResolveService(r.Context(), sc)
	if err != nil {
		return err
	}
	key, err := p.api.svc.EnsureSigningKey(r.Context(), rc.scope.AccountSid)
	if err != nil {
		return err
	}
	now := time.Now()
	tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: rc.scope.AccountSid, KeySid: key.Sid, KeySecret: key.Secret,
		Identity: *id, Chat: accesstoken.ChatGrant{ServiceSid: svc.Sid}, TTL: ttl}, now)
	if err != nil {
		return badParam("%v", err)
	}
	writeJSON(w, http.StatusCreated, tokenJSON{Token: tok, Identity: *id, ChatServiceSid: svc.Sid,
		Expires: now.Add(ttl).UTC().Format(time.RFC3339)})
	return nil
}
