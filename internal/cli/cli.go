// Package cli implements parley's subcommands: serve and version.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/httpapi"
	"github.com/parley-dev/parley/internal/store"
)

// DefaultAddr is where "parley serve" listens unless told otherwise.
const DefaultAddr = "127.0.0.1:7401"

// DefaultGCPercent is the garbage collector target "parley serve" sets unless GOGC or
// -gc-percent says otherwise.
const DefaultGCPercent = 400

// DefaultDB is the SQLite file "parley serve" uses unless told otherwise.
const DefaultDB = "parley.db"

const usage = `Usage:
  parley serve [flags]   start the API server (parley serve -h lists the flags)
  parley version         print the version
`

// Run runs one parley command with args (without the program name). getenv supplies the
// environment; output goes to stdout and stderr. It returns when the command is done or ctx
// is cancelled (serve shuts down gracefully then).
func Run(ctx context.Context, version string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], getenv, stderr)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		return serve(ctx, version, cfg, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "parley %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// Config is the configuration of "parley serve".
type Config struct {
	Addr          string
	DB            string
	Accounts      []string // "ACxxx:token"
	APIKeys       []string // "SKxxx:secret[:ACxxx]"
	PublicURL     string
	TrustProxy    bool
	MaxBodyBytes  int64
	SQLiteSync    string
	LogLevel      string
	PrintCreds    bool
	ShutdownGrace time.Duration
	// Slow-client limits of the HTTP server (see net/http.Server).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// PprofAddr, when set, serves net/http/pprof on this separate address.
	PprofAddr string
	// GCPercent is the Go garbage collector's target (runtime/debug.SetGCPercent): 0 leaves
	// the runtime's own (GOGC, 100 by default), a negative value turns the collector off.
	GCPercent int
	// CarrierURL, when set, receives SMS/WhatsApp deliveries (else the outbox records them).
	CarrierURL string
	// Webhooks configures webhook delivery (webhooks.go).
	Webhooks WebhookConfig
}

type listFlag struct{ vals *[]string }

func (l listFlag) String() string { return "" }
func (l listFlag) Set(v string) error {
	*l.vals = append(*l.vals, v)
	return nil
}

func splitList(s string) []string {
	var out []string
	return append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })...)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "PARLEY_ADDR", DefaultAddr), "listen address (env PARLEY_ADDR); port 0 picks a free port")
	fs.StringVar(&c.DB, "db", envOr(getenv, "PARLEY_DB", DefaultDB), "SQLite file path, or a postgres:// URL (env PARLEY_DB)")
	fs.Var(listFlag{&c.Accounts}, "account", "account credentials ACxxx:authtoken; repeatable (env PARLEY_ACCOUNTS, comma-separated)")
	fs.Var(listFlag{&c.APIKeys}, "api-key", "API key SKxxx:secret[:ACxxx] for an account (default: the first); repeatable (env PARLEY_API_KEYS)")
	sid := fs.String("account-sid", getenv("PARLEY_ACCOUNT_SID"), "account SID, with -auth-token (env PARLEY_ACCOUNT_SID)")
	token := fs.String("auth-token", getenv("PARLEY_AUTH_TOKEN"), "auth token of -account-sid (env PARLEY_AUTH_TOKEN)")
	fs.StringVar(&c.PublicURL, "public-url", getenv("PARLEY_PUBLIC_URL"), "scheme://host used in returned URLs instead of the request's Host (env PARLEY_PUBLIC_URL)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", getenv("PARLEY_TRUST_PROXY") == "true", "honour X-Forwarded-Proto/Host (env PARLEY_TRUST_PROXY=true)")
	maxBody, _ := strconv.ParseInt(envOr(getenv, "PARLEY_MAX_BODY_BYTES", "1048576"), 10, 64)
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", maxBody, "largest request body accepted, in bytes (env PARLEY_MAX_BODY_BYTES)")
	fs.StringVar(&c.SQLiteSync, "sqlite-synchronous", envOr(getenv, "PARLEY_SQLITE_SYNCHRONOUS", "NORMAL"), "SQLite synchronous pragma: NORMAL survives a process crash, FULL also power loss")
	fs.StringVar(&c.LogLevel, "log-level", envOr(getenv, "PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (env PARLEY_LOG_LEVEL)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "how long in-flight requests may finish on SIGINT/SIGTERM")
	if err := timeoutFlags(fs, getenv, c); err != nil {
		return nil, err
	}
	// Requests allocate little that outlives them (the data lives in the database), so
	// collecting less often costs little memory and saves CPU: at 16 clients a list of 50
	// measured +55%, a fetch +8% with 400 rather than Go's 100 (README, Performance).
	gcDefault := DefaultGCPercent
	if getenv("GOGC") != "" {
		gcDefault = 0 // the runtime already applied the environment's
	}
	gc, err := strconv.Atoi(envOr(getenv, "PARLEY_GC_PERCENT", strconv.Itoa(gcDefault)))
	if err != nil {
		return nil, fmt.Errorf("serve: PARLEY_GC_PERCENT: %w", err)
	}
	fs.IntVar(&c.GCPercent, "gc-percent", gc, "Go garbage collector target percentage; 0 keeps GOGC's (env PARLEY_GC_PERCENT; default 400 unless GOGC is set)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", getenv("PARLEY_PPROF_ADDR"), "serve net/http/pprof on this address, e.g. 127.0.0.1:6060 (env PARLEY_PPROF_ADDR; off by default)")
	deliveryFlags(fs, getenv, c) // delivery.go
	webhookFlags(fs, getenv, c)  // webhooks.go
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := checkTimeouts(c); err != nil {
		return nil, err
	}
	if len(c.Accounts) == 0 {
		c.Accounts = splitList(getenv("PARLEY_ACCOUNTS"))
	}
	if *sid != "" || *token != "" {
		if *sid == "" || *token == "" {
			return nil, errors.New("serve: -account-sid and -auth-token go together")
		}
		c.Accounts = append([]string{*sid + ":" + *token}, c.Accounts...)
	}
	if len(c.APIKeys) == 0 {
		c.APIKeys = splitList(getenv("PARLEY_API_KEYS"))
	}
	return c, nil
}

func logLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func serve(ctx context.Context, version string, cfg *Config, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	if cfg.GCPercent != 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{SQLiteSynchronous: cfg.SQLiteSync})
	if err != nil {
		return err
	}
	defer st.Close()
	hub := delivery.NewHub() // wakes the dispatcher and live streams on new messages
	webhooks, preHooks := newWebhooks(st, cfg, log)
	svc := conv.NewService(st, conv.Options{Events: conv.MultiSink{hub, webhooks}, PreHook: preHooks})

	var accounts []*conv.Account
	for _, a := range cfg.Accounts {
		sid, token, ok := strings.Cut(a, ":")
		if !ok {
			return fmt.Errorf("serve: account %q must be ACxxx:authtoken", a)
		}
		acct, err := svc.EnsureAccount(ctx, sid, token)
		if err != nil {
			return fmt.Errorf("serve: account %s: %w", sid, err)
		}
		accounts = append(accounts, acct)
	}
	if len(accounts) == 0 {
		acct, err := svc.EnsureDevAccount(ctx)
		if err != nil {
			return fmt.Errorf("serve: development account: %w", err)
		}
		if _, err := svc.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid}); err != nil {
			return err
		}
		accounts = append(accounts, acct)
	}
	for _, k := range cfg.APIKeys {
		parts := strings.SplitN(k, ":", 3)
		if len(parts) < 2 {
			return fmt.Errorf("serve: API key %q must be SKxxx:secret[:ACxxx]", k)
		}
		owner := accounts[0].Sid
		if len(parts) == 3 {
			owner = parts[2]
		}
		if err := svc.PutAPIKey(ctx, owner, parts[0], parts[1]); err != nil {
			return fmt.Errorf("serve: API key %s: %w", parts[0], err)
		}
	}

	extra := http.NewServeMux()
	extra.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	stopDelivery, err := startDelivery(ctx, svc, hub, cfg, log, extra) // delivery.go
	if err != nil {
		return err
	}
	defer stopDelivery()
	stopWebhooks := runWebhooks(ctx, webhooks)
	defer stopWebhooks()
	api := httpapi.New(svc, log, httpapi.Options{PublicURL: cfg.PublicURL, TrustProxy: cfg.TrustProxy,
		MaxBodyBytes: cfg.MaxBodyBytes, Extra: extra})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(hub.Close) // ends the live streams, which would hold Shutdown
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Parley %s listening on %s (store: %s)\n", version, base, st.Describe())
	for _, a := range accounts {
		fmt.Fprintf(stdout, "  Account SID: %s\n  Auth Token:  %s\n", a.Sid, a.AuthToken)
	}
	fmt.Fprintf(stdout, "  Point an SDK at it: client.conversations.baseUrl = %q (Node), see README.md\n", base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stopTimers := runTimers(ctx, svc, log, TimerInterval, time.Now)
	defer stopTimers()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
