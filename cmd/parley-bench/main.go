// Command parley-bench is Parley's load harness. It starts "parley serve" (on SQLite and on
// PostgreSQL) and a bare net/http handler of the same shape (Basic auth check, ~600-byte JSON
// body) on loopback, drives each with N concurrent keep-alive clients for a bounded time, and
// prints requests/s, p50/p99 latency and the ratio Parley ÷ bare handler for participant
// create, fetch by SID, fetch by identity, list (a page of 50 out of 1,000), update and
// delete, at concurrency 1, 16 and 64, with the server's peak RSS and whether each of the
// performance targets is met. With -scale it instead fills the database to a million
// participants and measures memory and how fetch and create latency change with size.
//
// Run it from the repository root (it builds ./cmd/parley unless -parley names a binary):
//
//	go run ./cmd/parley-bench -out bench.md
//	go run ./cmd/parley-bench -backends sqlite -concurrency 16 -duration 5s
//	go run ./cmd/parley-bench -scale 1000000 -backends sqlite
//	go run ./cmd/parley-bench -chat 1000 -backends sqlite
//
// Every request goes to 127.0.0.1.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The bench account (Parley gets it with -account; the bare handler checks the same).
const (
	benchAccount = "AC0123456789abcdef0123456789abcdef"
	benchToken   = "benchtoken0123456789"
)

// config is the harness's flags.
type config struct {
	backends    []string
	pgURL       string
	concurrency []int
	ops         []string
	duration    time.Duration
	warmup      time.Duration
	out, csv    string
	parley      string
	profileDir  string
	scale       int
	seedConvs   int
	maxRate     int
	deletePool  int
	dataDir     string
	perConv     int
	serverLog   string
	// streams, when set, runs the -streams mode (streams.go) instead of the table.
	streams       int
	streamsSettle time.Duration
	// chat, when set, runs the -chat mode (chat.go) instead of the table.
	chat         int
	chatRate     int
	chatDuration time.Duration
	chatPairs    int
}

var allOps = []string{"create", "fetch-sid", "fetch-identity", "list", "update", "delete"}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-bare-server" {
		if err := serveBare(); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("parley-bench", flag.ContinueOnError)
	backends := fs.String("backends", "", "comma-separated: sqlite, postgres (default: both when a PostgreSQL URL is set, else sqlite)")
	pg := os.Getenv("PARLEY_BENCH_POSTGRES_URL")
	if pg == "" {
		pg = os.Getenv("PARLEY_TEST_POSTGRES_URL")
	}
	fs.StringVar(&c.pgURL, "postgres", pg, "PostgreSQL URL to create a scratch schema in (env PARLEY_BENCH_POSTGRES_URL, else PARLEY_TEST_POSTGRES_URL)")
	conc := fs.String("concurrency", "1,16,64", "comma-separated client counts")
	ops := fs.String("ops", strings.Join(allOps, ","), "comma-separated operations")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "measured time per operation, server and concurrency")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured warm-up before each measurement")
	fs.StringVar(&c.out, "out", "", "also write the Markdown report to this file")
	fs.StringVar(&c.csv, "csv", "", "also write the results as CSV to this file")
	fs.StringVar(&c.parley, "parley", "", "parley binary to run (default: go build ./cmd/parley)")
	fs.StringVar(&c.profileDir, "profile", "", "save a CPU profile of Parley (net/http/pprof) for each operation at concurrency 16 in this directory")
	fs.IntVar(&c.scale, "scale", 0, "instead of the table: fill the database to this many participants (e.g. 1000000), measuring fetch and create at 10,000 and at the end, and peak RSS")
	fs.IntVar(&c.seedConvs, "seed-conversations", 4, "conversations of 1,000 participants that fetch, list and update use")
	fs.IntVar(&c.maxRate, "max-rate", 25000, "creates/s to provision conversations for (a create run stops early when they run out)")
	fs.IntVar(&c.deletePool, "delete-pool", 40000, "participants to have for each delete run (created untimed beforehand when the create run left fewer)")
	fs.IntVar(&c.perConv, "per-conversation", 100, "participants each create run puts in one conversation before taking the next (at most 1000)")
	fs.StringVar(&c.dataDir, "data-dir", "", "directory for the SQLite files (default: the system temporary directory)")
	fs.StringVar(&c.serverLog, "server-log", "", "append the servers' stderr to this file (default: discarded)")
	fs.IntVar(&c.streams, "streams", 0, "instead of the table: open this many idle live streams (e.g. 5000), fan one message out to all of them while another account writes, and report RSS, CPU and that account's latency")
	fs.DurationVar(&c.streamsSettle, "streams-settle", 30*time.Second, "with -streams: how long after closing the streams RSS is read again")
	fs.IntVar(&c.chat, "chat", 0, "instead of the table: connect this many twilsock chat clients (e.g. 1000) in conversations of 10, and report RSS, REST create → last client latency and client → client latency next to a WebSocket echo")
	fs.IntVar(&c.chatRate, "chat-rate", 50, "with -chat: REST message creates per second, each to a random conversation")
	fs.DurationVar(&c.chatDuration, "chat-duration", 20*time.Second, "with -chat: how long the creates go on")
	fs.IntVar(&c.chatPairs, "chat-pairs", 300, "with -chat: client → client messages (and echo round trips), one at a time")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.chat < 0 || c.chatRate < 1 || c.chatPairs < 1 || (c.chat > 0 && c.chat < 2) {
		return nil, errors.New("-chat needs at least 2 clients, -chat-rate and -chat-pairs at least 1")
	}
	if c.perConv < 1 || c.perConv > perConversation {
		return nil, fmt.Errorf("-per-conversation must be 1 to %d", perConversation)
	}
	for _, s := range splitComma(*conc) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-concurrency: %q is not a positive integer", s)
		}
		c.concurrency = append(c.concurrency, n)
	}
	for _, o := range splitComma(*ops) {
		found := false
		for _, a := range allOps {
			found = found || a == o
		}
		if !found {
			return nil, fmt.Errorf("-ops: unknown operation %q (have %s)", o, strings.Join(allOps, ", "))
		}
		c.ops = append(c.ops, o)
	}
	c.backends = splitComma(*backends)
	if len(c.backends) == 0 {
		c.backends = []string{"sqlite"}
		if c.pgURL != "" {
			c.backends = append(c.backends, "postgres")
		}
	}
	for _, b := range c.backends {
		if b != "sqlite" && b != "postgres" {
			return nil, fmt.Errorf("-backends: unknown backend %q", b)
		}
		if b == "postgres" && c.pgURL == "" {
			return nil, errors.New("-backends postgres needs -postgres or PARLEY_BENCH_POSTGRES_URL")
		}
	}
	return c, nil
}

func splitComma(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func run(cfg *config) error {
	tmp, err := os.MkdirTemp(cfg.dataDir, "parley-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.parley
	if bin == "" {
		fmt.Fprintln(os.Stderr, "building ./cmd/parley ...")
		if bin, err = buildParley(tmp); err != nil {
			return err
		}
	}
	var serverLog io.Writer = io.Discard
	if cfg.serverLog != "" {
		f, err := os.OpenFile(cfg.serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		serverLog = f
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}
	rep := &report{cfg: cfg, started: time.Now(), load0: loadAvg()}
	bare, err := startBare(serverLog)
	if err != nil {
		return err
	}
	defer bare.stop()
	for _, backend := range cfg.backends {
		db, cleanup, err := backendDB(cfg, backend, tmp)
		if err != nil {
			return err
		}
		var extra []string
		if cfg.streams > 0 {
			n := strconv.Itoa(cfg.streams)
			extra = []string{"-account", otherAccount + ":" + otherToken, "-max-streams", n, "-max-streams-per-account", n}
		}
		p, err := startParley(bin, db, cfg.profileDir != "", serverLog, extra...)
		if err != nil {
			cleanup()
			return err
		}
		b := &bench{cfg: cfg, backend: backend, parley: p, bare: bare, rep: rep}
		if cfg.chat > 0 {
			var sec string
			if sec, err = b.runChat(); err == nil {
				rep.sections = append(rep.sections, sec)
			}
		} else if cfg.streams > 0 {
			var sec string
			if sec, err = b.runStreams(); err == nil {
				rep.sections = append(rep.sections, sec)
			}
		} else if cfg.scale > 0 {
			err = b.runScale()
		} else {
			err = b.runTable()
		}
		rss, rerr := p.peakRSS()
		p.stop()
		if rerr == nil {
			rep.rss = append(rep.rss, rssRow{backend: backend, parley: rss, stored: b.stored})
		}
		if size, ok := dbSize(db); ok {
			rep.dbSizes = append(rep.dbSizes, fmt.Sprintf("%s: %.0f MB", backend, float64(size)/1e6))
		}
		cleanup()
		if err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
	}
	if rss, err := bare.peakRSS(); err == nil {
		rep.bareRSS = rss
	}
	return rep.write()
}

// backendDB returns the -db argument of a fresh database for backend and its clean-up.
func backendDB(cfg *config, backend, tmp string) (string, func(), error) {
	if backend == "sqlite" {
		db := filepath.Join(tmp, fmt.Sprintf("bench-%d.db", time.Now().UnixNano()))
		return db, func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
		}, nil
	}
	u, drop, err := pgSchema(cfg.pgURL)
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "drop schema:", err)
		}
	}, nil
}

// dbSize returns the size of a SQLite database with its WAL.
func dbSize(db string) (int64, bool) {
	if strings.HasPrefix(db, "postgres") {
		return 0, false
	}
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(db + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n, n > 0
}

func basicAuth() string {
	return base64.StdEncoding.EncodeToString([]byte(benchAccount + ":" + benchToken))
}
