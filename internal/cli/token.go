package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store"
)

// token runs "parley token": it prints an access token for the Conversations client SDK,
// signed with the account's Parley signing key from the store (the same database the server
// uses; the server prints the key in its banner).
func token(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", envOr(getenv, "PARLEY_DB", DefaultDB), "SQLite file path, or a postgres:// URL (env PARLEY_DB)")
	identity := fs.String("identity", "", "the user the token is for (required)")
	service := fs.String("service", "", "Conversation Service SID IS… (default: the account's default service)")
	account := fs.String("account-sid", getenv("PARLEY_ACCOUNT_SID"), "account SID (default: the first account in the store)")
	ttl := fs.Duration("ttl", time.Hour, "validity, at most 24h")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	case *identity == "":
		return errors.New("token: -identity is required")
	case *ttl <= 0 || *ttl > 24*time.Hour:
		return fmt.Errorf("token: -ttl must be more than 0 and at most 24h, not %s", *ttl)
	}
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := conv.NewService(st, conv.Options{})
	acctSid := conv.NormalizeSID(conv.PrefixAccount, *account)
	if acctSid == "" { // the first account that authenticates (retired ones have no token)
		accts, err := st.ListAccounts(ctx)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		for _, a := range accts {
			if a.AuthToken != "" && acctSid == "" {
				acctSid = a.Sid
			}
		}
		if acctSid == "" {
			acct, err := svc.EnsureDevAccount(ctx)
			if err != nil {
				return fmt.Errorf("token: %w", err)
			}
			acctSid = acct.Sid
		}
	}
	cs, err := svc.ResolveService(ctx, conv.Scope{AccountSid: acctSid, ServiceSid: *service})
	if err != nil {
		return fmt.Errorf("token: service: %w", err)
	}
	key, err := svc.EnsureSigningKey(ctx, acctSid)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: acctSid, KeySid: key.Sid, KeySecret: key.Secret,
		Identity: *identity, Chat: accesstoken.ChatGrant{ServiceSid: cs.Sid}, TTL: *ttl}, time.Now())
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
