package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Defaults of the slow-client limits of "parley serve".
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// timeoutFlags registers the HTTP server's timeouts on fs, each defaulting to its environment
// variable when set. It returns an error naming the variable when one is not a positive Go
// duration ("10s", "1m30s").
func timeoutFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) error {
	for _, d := range []struct {
		dst       *time.Duration
		name, env string
		def       time.Duration
		usage     string
	}{
		{&c.ReadHeaderTimeout, "read-header-timeout", "PARLEY_READ_HEADER_TIMEOUT", DefaultReadHeaderTimeout,
			"how long a client may take to send the request line and headers (slowloris limit)"},
		{&c.ReadTimeout, "read-timeout", "PARLEY_READ_TIMEOUT", DefaultReadTimeout,
			"how long a client may take to send the whole request, body included"},
		{&c.WriteTimeout, "write-timeout", "PARLEY_WRITE_TIMEOUT", DefaultWriteTimeout,
			"how long handling and writing a response may take, from the end of the request headers"},
		{&c.IdleTimeout, "idle-timeout", "PARLEY_IDLE_TIMEOUT", DefaultIdleTimeout,
			"how long an idle keep-alive connection is kept open"},
	} {
		def := d.def
		if v := getenv(d.env); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil || p <= 0 {
				return fmt.Errorf("serve: %s=%q is not a positive duration such as 10s", d.env, v)
			}
			def = p
		}
		fs.DurationVar(d.dst, d.name, def, d.usage+" (env "+d.env+")")
	}
	return nil
}

// checkTimeouts returns an error when a timeout flag is not positive.
func checkTimeouts(c *Config) error {
	var errs []error
	for name, v := range map[string]time.Duration{"-read-header-timeout": c.ReadHeaderTimeout, "-read-timeout": c.ReadTimeout,
		"-write-timeout": c.WriteTimeout, "-idle-timeout": c.IdleTimeout} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("serve: %s must be a positive duration, not %v", name, v))
		}
	}
	return errors.Join(errs...)
}

// startPprof serves net/http/pprof on addr (its own listener, never the API's) and returns a
// function that stops it. It returns an error when addr cannot be listened on.
func startPprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve: pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("pprof listening", slog.String("addr", "http://"+ln.Addr().String()+"/debug/pprof/"))
	return func() { _ = srv.Close() }, nil
}
