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

	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/gateway"
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
  parley token [flags]   print a chat access token (parley token -h lists the flags)
  parley version         print the version
`

// Run runs one parley command with args (without the program name). version is the release
// version set at build time ("dev" or "" when none was: "parley version" then prints the
// module version of the build). getenv supplies the environment; output goes to stdout and
// stderr. It returns when the command is done or ctx is cancelled (serve shuts down
// gracefully then).
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
	case "token":
		return token(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(version, bi, ok))
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// Config is the configuration of "parley serve": the server's (app.Config) and the process's.
type Config struct {
	// App is what the server is: store, credentials, URLs, limits, carrier, webhooks.
	App           app.Config
	Addr          string
	LogLevel      string
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
	var accounts, apiKeys []string
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "PARLEY_ADDR", DefaultAddr), "listen address (env PARLEY_ADDR); port 0 picks a free port")
	fs.StringVar(&c.App.DB, "db", envOr(getenv, "PARLEY_DB", DefaultDB), "SQLite file path, or a postgres:// URL (env PARLEY_DB)")
	fs.Var(listFlag{&accounts}, "account", "account credentials ACxxx:authtoken; repeatable (env PARLEY_ACCOUNTS, comma-separated)")
	fs.Var(listFlag{&apiKeys}, "api-key", "API key SKxxx:secret[:ACxxx] for an account (default: the first); repeatable (env PARLEY_API_KEYS)")
	sid := fs.String("account-sid", getenv("PARLEY_ACCOUNT_SID"), "account SID, with -auth-token (env PARLEY_ACCOUNT_SID)")
	token := fs.String("auth-token", getenv("PARLEY_AUTH_TOKEN"), "auth token of -account-sid (env PARLEY_AUTH_TOKEN)")
	fs.StringVar(&c.App.PublicURL, "public-url", getenv("PARLEY_PUBLIC_URL"), "scheme://host used in returned URLs instead of the request's Host (env PARLEY_PUBLIC_URL)")
	fs.BoolVar(&c.App.TrustProxy, "trust-proxy", getenv("PARLEY_TRUST_PROXY") == "true", "honour X-Forwarded-Proto/Host (env PARLEY_TRUST_PROXY=true)")
	maxBody, _ := strconv.ParseInt(envOr(getenv, "PARLEY_MAX_BODY_BYTES", "1048576"), 10, 64)
	fs.Int64Var(&c.App.MaxBodyBytes, "max-body-bytes", maxBody, "largest request body accepted, in bytes (env PARLEY_MAX_BODY_BYTES)")
	fs.StringVar(&c.App.SQLiteSynchronous, "sqlite-synchronous", envOr(getenv, "PARLEY_SQLITE_SYNCHRONOUS", "NORMAL"), "SQLite synchronous pragma: NORMAL survives a process crash, FULL also power loss")
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
	controlFlags(fs, getenv, c)  // control.go
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := checkTimeouts(c); err != nil {
		return nil, err
	}
	if len(accounts) == 0 {
		accounts = splitList(getenv("PARLEY_ACCOUNTS"))
	}
	if *sid != "" || *token != "" {
		if *sid == "" || *token == "" {
			return nil, errors.New("serve: -account-sid and -auth-token go together")
		}
		accounts = append([]string{*sid + ":" + *token}, accounts...)
	}
	for _, a := range accounts {
		sid, token, ok := strings.Cut(a, ":")
		if !ok {
			return nil, fmt.Errorf("serve: account %q must be ACxxx:authtoken", a)
		}
		c.App.Accounts = append(c.App.Accounts, app.Account{Sid: sid, AuthToken: token})
	}
	if len(apiKeys) == 0 {
		apiKeys = splitList(getenv("PARLEY_API_KEYS"))
	}
	for _, k := range apiKeys {
		parts := strings.SplitN(k, ":", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("serve: API key %q must be SKxxx:secret[:ACxxx]", k)
		}
		key := app.APIKey{Sid: parts[0], Secret: parts[1]}
		if len(parts) == 3 {
			key.AccountSid = parts[2]
		}
		c.App.APIKeys = append(c.App.APIKeys, key)
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
	a, err := app.New(ctx, cfg.App, app.Options{Log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	a.Start(ctx)

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
		Handler:           a.Handler(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.EndStreams) // ends the live streams (API and console), which would hold Shutdown
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Parley %s listening on %s (store: %s)\n", version, base, a.Store.Describe())
	for i, acct := range a.Accounts {
		fmt.Fprintf(stdout, "  Account SID: %s\n  Auth Token:  %s\n", acct.Sid, acct.AuthToken)
		if i < len(a.SigningKeys) {
			k := a.SigningKeys[i]
			fmt.Fprintf(stdout, "  API Key:     %s\n  API Secret:  %s  (chat access tokens: parley token -identity alice)\n", k.Sid, k.Secret)
		}
	}
	fmt.Fprintf(stdout, "  Chat clients: new Client(token, { Twilsock: { uri: %q } })\n", "ws://"+ln.Addr().String()+gateway.Path)
	fmt.Fprintf(stdout, "  Point an SDK at it: client.conversations.baseUrl = %q (Node), see README.md\n", base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
