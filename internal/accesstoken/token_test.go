package accesstoken

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	twjwt "github.com/twilio/twilio-go/client/jwt"

	"github.com/parley-dev/parley/internal/conv"
)

const (
	acct    = "AC0123456789abcdef0123456789abcdef"
	acct2   = "AC11111111111111111111111111111111"
	keySid  = "SK0123456789abcdef0123456789abcdef"
	key2Sid = "SK22222222222222222222222222222222"
	secret  = "key-secret-0123456789"
	svc     = "IS0123456789abcdef0123456789abcdef"
)

// keys is a KeyLookup over a map; err, when set, is returned for every lookup.
type keys struct {
	m   map[string][2]string // sid -> {account, secret}
	err error
}

func (k keys) LookupAPIKey(_ context.Context, sid string) (string, string, error) {
	if k.err != nil {
		return "", "", k.err
	}
	v, ok := k.m[sid]
	if !ok {
		return "", "", ErrKeyNotFound
	}
	return v[0], v[1], nil
}

func testKeys() keys {
	return keys{m: map[string][2]string{keySid: {acct, secret}, key2Sid: {acct2, "other-secret"}}}
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// craft signs arbitrary header and payload JSON with secret (HS256).
func craft(hdr, payload, secret string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(hdr)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

const goodHdr = `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`

// claimsJSON returns a payload like twilio-node's, issued at t0 for one hour, with edits
// applied (a nil value deletes the key).
func claimsJSON(edits map[string]any) string {
	p := map[string]any{
		"jti":    keySid + "-1796126400",
		"grants": map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": svc}},
		"iat":    t0.Unix(),
		"exp":    t0.Add(time.Hour).Unix(),
		"iss":    keySid,
		"sub":    acct,
	}
	for k, v := range edits {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func mustMint(t *testing.T, p MintParams, now time.Time) string {
	t.Helper()
	tok, err := Mint(p, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func params() MintParams {
	return MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: "alice", Chat: ChatGrant{ServiceSid: svc}}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	tok := mustMint(t, params(), t0)
	c, err := NewVerifier(testKeys(), fixed(t0.Add(59*time.Minute))).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{ID: keySid + "-" + "1796126400", KeySid: keySid, AccountSid: acct, Algorithm: "HS256",
		IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Identity: "alice", Chat: &ChatGrant{ServiceSid: svc}}
	if c.ID != want.ID || c.KeySid != want.KeySid || c.AccountSid != want.AccountSid || c.Algorithm != want.Algorithm ||
		!c.IssuedAt.Equal(want.IssuedAt) || !c.ExpiresAt.Equal(want.ExpiresAt) || !c.NotBefore.IsZero() ||
		c.Identity != want.Identity || *c.Chat != *want.Chat {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	// The exact wire shape twilio-node produces (key order included).
	parts := strings.Split(tok, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(h) != goodHdr {
		t.Errorf("header = %s", h)
	}
	if got, w := string(p), `{"jti":"`+keySid+`-1796126400","grants":{"identity":"alice","chat":{"service_sid":"`+svc+`"}},"iat":1796126400,"exp":1796130000,"iss":"`+keySid+`","sub":"`+acct+`"}`; got != w {
		t.Errorf("payload = %s\nwant      %s", got, w)
	}
}

func TestMintRegionAndTTL(t *testing.T) {
	p := params()
	p.Region, p.TTL = "ie1", 24*time.Hour
	c, err := NewVerifier(testKeys(), fixed(t0)).Verify(context.Background(), mustMint(t, p, t0))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "ie1" || !c.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("claims = %+v", c)
	}
}

func TestMintRejectsBadParams(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*MintParams)
		code int
	}{
		"key sid":     {func(p *MintParams) { p.KeySid = "AC0123456789abcdef0123456789abcdef" }, CodeIssuerSubject},
		"account sid": {func(p *MintParams) { p.AccountSid = "x" }, CodeIssuerSubject},
		"secret":      {func(p *MintParams) { p.KeySecret = "" }, CodeSignature},
		"ttl":         {func(p *MintParams) { p.TTL = 25 * time.Hour }, CodeExpired},
		"identity":    {func(p *MintParams) { p.Identity = "" }, CodeGrants},
		"service":     {func(p *MintParams) { p.Chat.ServiceSid = "CH0123456789abcdef0123456789abcdef" }, CodeGrants},
	} {
		t.Run(name, func(t *testing.T) {
			p := params()
			tc.edit(&p)
			_, err := Mint(p, t0)
			if CodeOf(err) != tc.code {
				t.Fatalf("err = %v, want code %d", err, tc.code)
			}
		})
	}
}

func TestVerifyRejections(t *testing.T) {
	good := craft(goodHdr, claimsJSON(nil), secret)
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	tamperedPayload := parts[0] + "." + enc.EncodeToString([]byte(strings.Replace(claimsJSON(nil), "alice", "mallory", 1))) + "." + parts[2]
	sig, _ := enc.DecodeString(parts[2])
	sig[0] ^= 1
	tamperedSig := parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)

	cases := []struct {
		name  string
		token string
		now   time.Time
		code  int
	}{
		{"empty", "", t0, CodeInvalid},
		{"garbage", "not a jwt", t0, CodeInvalid},
		{"two parts", parts[0] + "." + parts[1], t0, CodeInvalid},
		{"four parts", good + ".x", t0, CodeInvalid},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], t0, CodeInvalid},
		{"header not json", craft(`{"alg":`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"header array", craft(`[1]`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"alg none", craft(`{"alg":"none","typ":"JWT","cty":"twilio-fpa;v=1"}`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"alg RS256", craft(`{"alg":"RS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"cty missing", craft(`{"alg":"HS256","typ":"JWT"}`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"typ missing", craft(`{"alg":"HS256","cty":"twilio-fpa;v=1"}`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"typ wrong", craft(`{"alg":"HS256","typ":"JWS","cty":"twilio-fpa;v=1"}`, claimsJSON(nil), secret), t0, CodeInvalid},
		{"payload not json", craft(goodHdr, `{"jti":`, secret), t0, CodeInvalid},
		{"payload trailing", craft(goodHdr, claimsJSON(nil)+`{}`, secret), t0, CodeInvalid},
		{"iat string", craft(goodHdr, claimsJSON(map[string]any{"iat": "x"}), secret), t0, CodeInvalid},
		{"iss not SK", craft(goodHdr, claimsJSON(map[string]any{"iss": acct}), secret), t0, CodeIssuerSubject},
		{"iss missing", craft(goodHdr, claimsJSON(map[string]any{"iss": nil}), secret), t0, CodeIssuerSubject},
		{"sub not AC", craft(goodHdr, claimsJSON(map[string]any{"sub": keySid}), secret), t0, CodeIssuerSubject},
		{"unknown key", craft(goodHdr, claimsJSON(map[string]any{"iss": "SK99999999999999999999999999999999"}), secret), t0, CodeIssuerSubject},
		{"key of another account", craft(goodHdr, claimsJSON(map[string]any{"iss": key2Sid}), "other-secret"), t0, CodeIssuerSubject},
		{"wrong account", craft(goodHdr, claimsJSON(map[string]any{"sub": acct2}), secret), t0, CodeIssuerSubject},
		{"tampered payload", tamperedPayload, t0, CodeSignature},
		{"tampered signature", tamperedSig, t0, CodeSignature},
		{"wrong secret", craft(goodHdr, claimsJSON(nil), "not-the-secret"), t0, CodeSignature},
		{"expired", good, t0.Add(time.Hour), CodeExpired},
		{"long expired", good, t0.Add(48 * time.Hour), CodeExpired},
		{"exp missing", craft(goodHdr, claimsJSON(map[string]any{"exp": nil}), secret), t0, CodeExpired},
		{"exp string", craft(goodHdr, claimsJSON(map[string]any{"exp": "soon"}), secret), t0, CodeExpired},
		{"exp negative", craft(goodHdr, claimsJSON(map[string]any{"exp": -1}), secret), t0, CodeExpired},
		{"ttl over 24h", craft(goodHdr, claimsJSON(map[string]any{"exp": t0.Add(24*time.Hour + time.Second).Unix()}), secret), t0, CodeExpired},
		{"ttl over 24h no iat", craft(goodHdr, claimsJSON(map[string]any{"iat": nil, "exp": t0.Add(25 * time.Hour).Unix()}), secret), t0, CodeExpired},
		{"nbf future", craft(goodHdr, claimsJSON(map[string]any{"nbf": t0.Add(time.Minute).Unix()}), secret), t0, CodeNotYetValid},
		{"nbf string", craft(goodHdr, claimsJSON(map[string]any{"nbf": "x"}), secret), t0, CodeNotYetValid},
		{"grants missing", craft(goodHdr, claimsJSON(map[string]any{"grants": nil}), secret), t0, CodeGrants},
		{"grants not object", craft(goodHdr, claimsJSON(map[string]any{"grants": []int{1}}), secret), t0, CodeGrants},
		{"identity missing", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"chat": map[string]any{"service_sid": svc}}}), secret), t0, CodeGrants},
		{"identity number", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"identity": 7, "chat": map[string]any{"service_sid": svc}}}), secret), t0, CodeGrants},
		{"chat missing", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"identity": "alice", "video": map[string]any{}}}), secret), t0, CodeGrants},
		{"service sid missing", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"identity": "alice", "chat": map[string]any{}}}), secret), t0, CodeGrants},
		{"service sid wrong type", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": 1}}}), secret), t0, CodeGrants},
		{"service sid not IS", craft(goodHdr, claimsJSON(map[string]any{"grants": map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": keySid}}}), secret), t0, CodeGrants},
		{"too long", strings.Repeat("a", MaxTokenBytes+1), t0, CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewVerifier(testKeys(), fixed(tc.now)).Verify(context.Background(), tc.token)
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want code %d", err, tc.code)
			}
			if e.Message != Title(tc.code) || e.Status() != 401 {
				t.Fatalf("message %q status %d", e.Message, e.Status())
			}
			if strings.Contains(e.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", e)
			}
		})
	}
}

func TestVerifyValidityBoundaries(t *testing.T) {
	v := func(now time.Time, edits map[string]any) error {
		_, err := NewVerifier(testKeys(), fixed(now)).Verify(context.Background(), craft(goodHdr, claimsJSON(edits), secret))
		return err
	}
	if err := v(t0.Add(time.Hour-time.Second), nil); err != nil {
		t.Errorf("one second before exp: %v", err)
	}
	if err := v(t0, map[string]any{"nbf": t0.Unix()}); err != nil {
		t.Errorf("at nbf: %v", err)
	}
	if err := v(t0, map[string]any{"exp": t0.Add(24 * time.Hour).Unix()}); err != nil {
		t.Errorf("exactly 24h: %v", err)
	}
	// twilio-go writes float NumericDates.
	if err := v(t0, map[string]any{"exp": float64(t0.Unix()) + 60.5, "nbf": float64(t0.Unix())}); err != nil {
		t.Errorf("float dates: %v", err)
	}
}

func TestVerifyHS384AndHS512(t *testing.T) {
	// twilio-node can sign with HS384/HS512 (toJwt(algorithm)); see TestTwilioNodeTokens too.
	for _, alg := range []string{"HS384", "HS512"} {
		hdr := `{"alg":"` + alg + `","typ":"JWT","cty":"twilio-fpa;v=1"}`
		enc := base64.RawURLEncoding
		in := enc.EncodeToString([]byte(hdr)) + "." + enc.EncodeToString([]byte(claimsJSON(nil)))
		tok := in + "." + enc.EncodeToString(sign(alg, secret, in))
		if _, err := NewVerifier(testKeys(), fixed(t0)).Verify(context.Background(), tok); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		// An HS256 signature under an HS384 header does not verify.
		bad := in + "." + enc.EncodeToString(sign("HS256", secret, in))
		if _, err := NewVerifier(testKeys(), fixed(t0)).Verify(context.Background(), bad); CodeOf(err) != CodeSignature {
			t.Errorf("%s header with HS256 signature: %v", alg, err)
		}
	}
}

func TestVerifyLookupFailurePassesThrough(t *testing.T) {
	boom := errors.New("database down")
	k := testKeys()
	k.err = boom
	_, err := NewVerifier(k, fixed(t0)).Verify(context.Background(), mustMint(t, params(), t0))
	if !errors.Is(err, boom) || CodeOf(err) != 0 {
		t.Fatalf("err = %v, want the lookup error unwrapped and no Twilio code", err)
	}
}

// TestTwilioGoTokens verifies tokens minted by twilio-go's client/jwt package (it reads the
// real clock, so the verifier does too).
func TestTwilioGoTokens(t *testing.T) {
	tok := twjwt.CreateAccessToken(twjwt.AccessTokenParams{AccountSid: acct, SigningKeySid: keySid, Secret: secret, Identity: "bob", Ttl: 3600})
	tok.AddGrant(&twjwt.ChatGrant{ServiceSid: svc, EndpointID: "bob:app:1"})
	s, err := tok.ToJwt()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewVerifier(testKeys(), time.Now).Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity != "bob" || c.Chat.ServiceSid != svc || c.Chat.EndpointID != "bob:app:1" || c.AccountSid != acct || c.NotBefore.IsZero() {
		t.Fatalf("claims = %+v", c)
	}
	// The same token signed with another key's secret is refused.
	bad := twjwt.CreateAccessToken(twjwt.AccessTokenParams{AccountSid: acct, SigningKeySid: keySid, Secret: "nope", Identity: "bob"})
	bad.AddGrant(&twjwt.ChatGrant{ServiceSid: svc})
	bs, err := bad.ToJwt()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(testKeys(), time.Now).Verify(context.Background(), bs); CodeOf(err) != CodeSignature {
		t.Fatalf("wrong secret: %v", err)
	}
	// Programmable Chat's legacy ip_messaging grant is accepted in place of chat.
	ip := twjwt.CreateAccessToken(twjwt.AccessTokenParams{AccountSid: acct, SigningKeySid: keySid, Secret: secret, Identity: "bob"})
	ip.AddGrant(&twjwt.IpMessagingGrant{ServiceSid: svc})
	is, err := ip.ToJwt()
	if err != nil {
		t.Fatal(err)
	}
	if c, err := NewVerifier(testKeys(), time.Now).Verify(context.Background(), is); err != nil || c.Chat.ServiceSid != svc {
		t.Fatalf("ip_messaging grant: %v", err)
	}
	// twilio-go without a chat grant: 20106.
	ng := twjwt.CreateAccessToken(twjwt.AccessTokenParams{AccountSid: acct, SigningKeySid: keySid, Secret: secret, Identity: "bob"})
	ng.AddGrant(&twjwt.VideoGrant{Room: "r"})
	ns, err := ng.ToJwt()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(testKeys(), time.Now).Verify(context.Background(), ns); CodeOf(err) != CodeGrants {
		t.Fatalf("video grant only: %v", err)
	}
}

// TestTwilioNodeTokens verifies tokens minted by twilio-node (tests/nodesdk pins it). It skips
// unless node and tests/nodesdk/node_modules/twilio exist (npm ci --prefix tests/nodesdk);
// PARLEY_REQUIRE_NODE=1 makes that a failure.
func TestTwilioNodeTokens(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "nodesdk"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(dir, "node_modules", "twilio", "package.json"))
	if err != nil || statErr != nil {
		if os.Getenv("PARLEY_REQUIRE_NODE") == "1" {
			t.Fatalf("node (%v) or tests/nodesdk/node_modules/twilio (%v) missing; run npm ci --prefix tests/nodesdk", err, statErr)
		}
		t.Skip("node or tests/nodesdk/node_modules/twilio missing; run npm ci --prefix tests/nodesdk")
	}
	mint := func(t *testing.T, extra ...string) string {
		t.Helper()
		cmd := exec.Command(node, "mint_access_token.js")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ACCOUNT_SID="+acct, "KEY_SID="+keySid, "KEY_SECRET="+secret, "IDENTITY=carol", "SERVICE_SID="+svc)
		cmd.Env = append(cmd.Env, extra...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node mint_access_token.js: %v", err)
		}
		return string(out)
	}
	for _, tc := range []struct {
		name  string
		extra []string
		code  int
	}{
		{"default", nil, 0},
		{"ttl 24h region", []string{"TTL=86400", "REGION=au1"}, 0},
		{"HS512", []string{"ALG=HS512"}, 0},
		{"ttl over 24h", []string{"TTL=86401"}, CodeExpired},
		{"wrong secret", []string{"KEY_SECRET=forged"}, CodeSignature},
		{"wrong account", []string{"ACCOUNT_SID=" + acct2}, CodeIssuerSubject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewVerifier(testKeys(), time.Now).Verify(context.Background(), mint(t, tc.extra...))
			if CodeOf(err) != tc.code || (tc.code == 0 && err != nil) {
				t.Fatalf("err = %v, want code %d", err, tc.code)
			}
			if tc.code == 0 && (c.Identity != "carol" || c.Chat.ServiceSid != svc || c.IssuedAt.IsZero()) {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

type fakeGetter map[string]*conv.APIKey

func (f fakeGetter) GetAPIKey(_ context.Context, sid string) (*conv.APIKey, error) {
	if k, ok := f[sid]; ok {
		return k, nil
	}
	return nil, conv.ErrNotFound
}

func TestConvKeys(t *testing.T) {
	ck := ConvKeys{Store: fakeGetter{keySid: {Sid: keySid, AccountSid: acct, Secret: secret}}}
	a, s, err := ck.LookupAPIKey(context.Background(), keySid)
	if err != nil || a != acct || s != secret {
		t.Fatalf("got %q %q %v", a, s, err)
	}
	if _, _, err := ck.LookupAPIKey(context.Background(), key2Sid); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := NewVerifier(ck, fixed(t0)).Verify(context.Background(), mustMint(t, params(), t0)); err != nil {
		t.Fatal(err)
	}
}

func TestMintWithKey(t *testing.T) {
	tok, err := MintWithKey(context.Background(), testKeys(), keySid, "erin", svc, 2*time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewVerifier(testKeys(), fixed(t0)).Verify(context.Background(), tok)
	if err != nil || c.Identity != "erin" || c.AccountSid != acct || !c.ExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, sid := range []string{"SK99999999999999999999999999999999", "nope"} {
		if _, err := MintWithKey(context.Background(), testKeys(), sid, "erin", svc, 0, t0); CodeOf(err) != CodeIssuerSubject {
			t.Fatalf("%s: %v", sid, err)
		}
	}
	k := testKeys()
	k.err = errors.New("down")
	if _, err := MintWithKey(context.Background(), k, keySid, "erin", svc, 0, t0); err == nil || CodeOf(err) != 0 {
		t.Fatalf("lookup failure: %v", err)
	}
}
