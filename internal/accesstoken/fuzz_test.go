package accesstoken

import (
	"context"
	"testing"
)

// FuzzParse feeds arbitrary text to the parser and the verifier: they never panic, every
// rejection carries a Twilio code, and an accepted token has the claims Verify promises.
func FuzzParse(f *testing.F) {
	f.Add(craft(goodHdr, claimsJSON(nil), secret))
	f.Add(craft(goodHdr, claimsJSON(map[string]any{"exp": 1e300}), secret))
	f.Add(craft(`{"alg":"HS512","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}`, claimsJSON(map[string]any{"nbf": 1.5}), secret))
	f.Add("a.b.c")
	f.Add("")
	f.Add("e30.e30.")
	v := NewVerifier(testKeys(), fixed(t0))
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Parse(tok)
		if err != nil {
			if CodeOf(err) == 0 {
				t.Fatalf("Parse error without a code: %v", err)
			}
		} else if c == nil {
			t.Fatal("nil claims without error")
		}
		vc, err := v.Verify(context.Background(), tok)
		if err != nil {
			if CodeOf(err) == 0 {
				t.Fatalf("Verify error without a code: %v", err)
			}
			return
		}
		if vc.Identity == "" || vc.Chat == nil || !isSID("IS", vc.Chat.ServiceSid) || vc.KeySid != keySid ||
			vc.AccountSid != acct || !t0.Before(vc.ExpiresAt) || vc.ExpiresAt.Sub(t0) > MaxTTL || t0.Before(vc.NotBefore) {
			t.Fatalf("accepted bad claims %+v", vc)
		}
	})
}
