package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// row is one operation at one concurrency on one backend.
type row struct {
	backend      string
	op           string
	conc         int
	parley, bare result
	profiled     bool
}

func (r row) ratio() float64 {
	if r.bare.RPS == 0 {
		return 0
	}
	return r.parley.RPS / r.bare.RPS
}

type rssRow struct {
	backend string
	parley  int64
	stored  int
}

type scaleRow struct {
	backend string
	stored  int
	op      string
	res     result
}

// report collects the results and writes them.
type report struct {
	cfg     *config
	started time.Time
	rows    []row
	rss     []rssRow
	bareRSS int64
	scale   []scaleRow
	fills   []string
	dbSizes []string
	load0   string // /proc/loadavg when the run started
	// sections are the -streams or -chat mode's results (streams.go, chat.go), written instead of the table.
	sections []string
}

// loadAvg returns the 1-minute load average, or "?" when unknown.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// target is one performance target with its verdict.
type verdict struct {
	name, measured string
	met            bool
	known          bool // false: not measured in this run
}

func (r *report) find(backend, op string, conc int) (row, bool) {
	for _, x := range r.rows {
		if x.backend == backend && x.op == op && x.conc == conc {
			return x, true
		}
	}
	return row{}, false
}

// verdicts evaluates the targets on what this run measured.
func (r *report) verdicts() []verdict {
	var out []verdict
	backends := r.cfg.backends
	if r.cfg.scale == 0 {
		for _, b := range backends {
			if x, ok := r.find(b, "fetch-sid", 16); ok {
				out = append(out, verdict{name: b + ": fetch by SID, 16 clients, ≥ 40% of the bare handler",
					measured: fmt.Sprintf("%.0f%% (%.0f/s vs %.0f/s)", 100*x.ratio(), x.parley.RPS, x.bare.RPS), met: x.ratio() >= 0.40, known: true})
			}
			if x, ok := r.find(b, "list", 16); ok {
				out = append(out, verdict{name: b + ": list of 50, 16 clients, ≥ 15% of the bare handler",
					measured: fmt.Sprintf("%.0f%% (%.0f/s vs %.0f/s)", 100*x.ratio(), x.parley.RPS, x.bare.RPS), met: x.ratio() >= 0.15, known: true})
			}
			if x, ok := r.find(b, "create", 16); ok && b == "sqlite" {
				out = append(out, verdict{name: "sqlite: durable create, 16 clients, ≥ 10,000/s",
					measured: fmt.Sprintf("%.0f/s", x.parley.RPS), met: x.parley.RPS >= 10000, known: true})
			}
			var worst row
			n := 0
			for _, x := range r.rows {
				if x.backend == b && x.conc == 16 {
					n++
					if x.parley.P99 > worst.parley.P99 {
						worst = x
					}
				}
			}
			if n > 0 {
				out = append(out, verdict{name: b + ": p99 < 10 ms for every operation, 16 clients",
					measured: fmt.Sprintf("worst %s ms (%s)", ms(worst.parley.P99), worst.op), met: worst.parley.P99 < 10*time.Millisecond, known: true})
			}
		}
		out = append(out, verdict{name: "peak RSS < 150 MB with 1,000,000 participants", measured: "run with -scale 1000000"},
			verdict{name: "fetch and create latency within 20% from 10,000 to 1,000,000 participants", measured: "run with -scale 1000000"})
		return out
	}
	for _, x := range r.rss {
		out = append(out, verdict{name: fmt.Sprintf("%s: peak RSS < 150 MB with %d participants", x.backend, x.stored),
			measured: mb(x.parley), met: x.parley < 150<<20 && x.stored >= 1_000_000*99/100, known: true})
	}
	for _, b := range backends {
		for _, op := range []string{"fetch-sid", "create"} {
			var first, last *scaleRow
			for i := range r.scale {
				s := &r.scale[i]
				if s.backend == b && s.op == op {
					if first == nil {
						first = s
					}
					last = s
				}
			}
			if first == nil || first == last {
				continue
			}
			change := float64(last.res.P50)/float64(first.res.P50) - 1
			out = append(out, verdict{name: fmt.Sprintf("%s: %s p50 latency within 20%% from %d to %d participants", b, op, first.stored, last.stored),
				measured: fmt.Sprintf("%s → %s ms (%+.0f%%)", ms(first.res.P50), ms(last.res.P50), 100*change),
				met:      change <= 0.20 && change >= -0.20 && last.stored >= 1_000_000*99/100, known: true})
		}
	}
	return out
}

func (r *report) markdown() string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "## parley-bench %s\n\n", r.started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s/%s, %s. Command: `%s`.\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), strings.Join(append([]string{"parley-bench"}, os.Args[1:]...), " "))
	fmt.Fprintf(&b, "Load average (1 min) at the start: %s, at the end: %s (other work on the machine shows here).\n", r.load0, loadAvg())
	fmt.Fprintf(&b, "Each cell: %v measured after %v of warm-up; clients and servers share the machine. Creates fill conversations of %d participants; "+
		"fetch, list and update use %d conversations of 1,000.\n\n", r.cfg.duration, r.cfg.warmup, r.cfg.perConv, r.cfg.seedConvs)
	if len(r.rows) > 0 {
		b.WriteString("| backend | operation | clients | Parley req/s | p50 ms | p99 ms | bare req/s | bare p50 ms | bare p99 ms | Parley ÷ bare | errors |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range r.rows {
			note := ""
			if x.profiled {
				note = " (profiled)"
			}
			fmt.Fprintf(&b, "| %s | %s%s | %d | %.0f | %s | %s | %.0f | %s | %s | %.2f | %d |\n", x.backend, x.op, note, x.conc,
				x.parley.RPS, ms(x.parley.P50), ms(x.parley.P99), x.bare.RPS, ms(x.bare.P50), ms(x.bare.P99), x.ratio(), x.parley.Errors+x.bare.Errors)
		}
		b.WriteString("\n")
	}
	if len(r.scale) > 0 {
		b.WriteString("| backend | participants stored | operation (16 clients) | req/s | p50 ms | p99 ms | errors |\n|---|---:|---|---:|---:|---:|---:|\n")
		for _, s := range r.scale {
			fmt.Fprintf(&b, "| %s | %d | %s | %.0f | %s | %s | %d |\n", s.backend, s.stored, s.op, s.res.RPS, ms(s.res.P50), ms(s.res.P99), s.res.Errors)
		}
		b.WriteString("\n")
		for _, f := range r.fills {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	for _, x := range r.rss {
		fmt.Fprintf(&b, "- Peak RSS of parley (%s): %s", x.backend, mb(x.parley))
		if x.stored > 0 {
			fmt.Fprintf(&b, " with %d participants stored", x.stored)
		}
		b.WriteString("\n")
	}
	if r.bareRSS > 0 {
		fmt.Fprintf(&b, "- Peak RSS of the bare handler: %s\n", mb(r.bareRSS))
	}
	if len(r.dbSizes) > 0 {
		fmt.Fprintf(&b, "- SQLite database size at the end: %s\n", strings.Join(r.dbSizes, ", "))
	}
	b.WriteString("\n### Targets\n\n| target | measured | met |\n|---|---|---|\n")
	for _, v := range r.verdicts() {
		met := "not measured"
		if v.known {
			met = map[bool]string{true: "yes", false: "**no**"}[v.met]
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", v.name, v.measured, met)
	}
	return b.String()
}

func (r *report) csvText() string {
	var b strings.Builder
	b.WriteString("backend,operation,clients,parley_rps,parley_p50_ms,parley_p99_ms,bare_rps,bare_p50_ms,bare_p99_ms,ratio,errors\n")
	for _, x := range r.rows {
		fmt.Fprintf(&b, "%s,%s,%d,%.0f,%s,%s,%.0f,%s,%s,%.3f,%d\n", x.backend, x.op, x.conc, x.parley.RPS, ms(x.parley.P50), ms(x.parley.P99),
			x.bare.RPS, ms(x.bare.P50), ms(x.bare.P99), x.ratio(), x.parley.Errors+x.bare.Errors)
	}
	for _, s := range r.scale {
		fmt.Fprintf(&b, "%s,%s@%d,16,%.0f,%s,%s,,,,,%d\n", s.backend, s.op, s.stored, s.res.RPS, ms(s.res.P50), ms(s.res.P99), s.res.Errors)
	}
	return b.String()
}

func (r *report) write() error {
	md := r.markdown()
	if len(r.sections) > 0 {
		title := "Streams"
		if r.cfg.chat > 0 {
			title = "Chat clients"
		}
		md = fmt.Sprintf("%s, %s, load average %s at the start\n\n%s", title, r.started.UTC().Format(time.RFC3339), r.load0, strings.Join(r.sections, ""))
	}
	fmt.Print(md)
	if r.cfg.out != "" {
		if err := os.WriteFile(r.cfg.out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if r.cfg.csv != "" {
		if err := os.WriteFile(r.cfg.csv, []byte(r.csvText()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
