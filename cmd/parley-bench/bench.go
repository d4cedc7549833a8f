package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// perConversation is how many participants the harness puts in one conversation (Twilio's
// limit is 1,000 per conversation).
const perConversation = 1000

// part is a participant the harness created.
type part struct{ conv, sid, identity string }

// bench drives one backend.
type bench struct {
	cfg     *config
	backend string
	parley  *server
	bare    *server
	rep     *report
	stored  int // participants in the database (scale mode)

	fixed   []string // conversations of perConversation participants (fetch, list, update)
	parts   []part   // their participants
	pages   []string // list pages (paths) of the fixed conversations, as an SDK pages
	created [][]part // created by the last create run, per worker: the delete pool
}

func (b *bench) target(s *server) target { return target{addr: s.addr, auth: basicAuth()} }

var formAttrs = url.QueryEscape(benchAttrs)

// ---- set-up through the API ----

func (b *bench) api(method, path string, form url.Values) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, "http://"+b.parley.addr+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(benchAccount, benchToken)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// createConversations creates n conversations (16 at a time) and returns their SIDs.
func (b *bench) createConversations(n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	var next atomic.Int64
	var mu sync.Mutex
	var sids []string
	wl := workload{name: "seed conversations", keep: true,
		next: func(w, i int) (request, bool) {
			if next.Add(1) > int64(n) {
				return request{}, false
			}
			return request{method: "POST", path: "/v1/Conversations", body: "FriendlyName=bench", want: 201}, true
		},
		done: func(w int, body []byte) {
			mu.Lock()
			sids = append(sids, fieldValue(body, "sid"))
			mu.Unlock()
		}}
	res, err := drive(b.target(b.parley), wl, min(16, n), 0, time.Hour)
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 || len(sids) != n {
		return nil, fmt.Errorf("creating %d conversations: %d errors, e.g. %s", n, res.Errors, res.Sample)
	}
	return sids, nil
}

// convPool hands out conversations to create participants in.
type convPool struct {
	sids    []string
	next    atomic.Int64
	endless string // when set, every take returns it (the bare handler stores nothing)
}

func (p *convPool) take() (string, bool) {
	if p.endless != "" {
		return p.endless, true
	}
	i := p.next.Add(1) - 1
	if i >= int64(len(p.sids)) {
		return "", false
	}
	return p.sids[i], true
}

// createWorkload creates participants: each worker fills its own conversation from pool up to
// perConv participants, then takes the next. limit > 0 stops after that many in all. keep,
// when set, receives every created participant.
func createWorkload(pool *convPool, perConv, conc int, prefix string, limit int64, keep func(w int, p part)) workload {
	cur := make([]part, conc)
	count := make([]int, conc)
	var total atomic.Int64
	return workload{name: "create", keep: true,
		next: func(w, i int) (request, bool) {
			if limit > 0 && total.Add(1) > limit {
				return request{}, false
			}
			if count[w]%perConv == 0 {
				c, ok := pool.take()
				if !ok {
					return request{}, false
				}
				cur[w].conv = c
			}
			count[w]++
			cur[w].identity = fmt.Sprintf("%s-%d-%d", prefix, w, i)
			return request{method: "POST", path: "/v1/Conversations/" + cur[w].conv + "/Participants",
				body: "Identity=" + cur[w].identity + "&Attributes=" + formAttrs, want: 201}, true
		},
		done: func(w int, body []byte) {
			if keep != nil {
				keep(w, part{conv: cur[w].conv, sid: fieldValue(body, "sid"), identity: cur[w].identity})
			}
		}}
}

// seedFixed creates the fixed conversations with perConversation participants each and walks
// their list pages.
func (b *bench) seedFixed() error {
	sids, err := b.createConversations(b.cfg.seedConvs)
	if err != nil {
		return err
	}
	b.fixed = sids
	var mu sync.Mutex
	keep := func(_ int, p part) {
		mu.Lock()
		b.parts = append(b.parts, p)
		mu.Unlock()
	}
	// One client per conversation, the conversations in parallel.
	var wg sync.WaitGroup
	errs := make([]error, len(sids))
	for i, sid := range sids {
		wg.Go(func() {
			w := createWorkload(&convPool{sids: []string{sid}}, perConversation, 1, fmt.Sprintf("f%d", i), perConversation, keep)
			res, err := drive(b.target(b.parley), w, 1, 0, time.Hour)
			if err == nil && res.Errors > 0 {
				err = fmt.Errorf("seeding %s: %d errors, e.g. %s", sid, res.Errors, res.Sample)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if len(b.parts) != len(sids)*perConversation {
		return fmt.Errorf("seeded %d participants, want %d", len(b.parts), len(sids)*perConversation)
	}
	// The list pages an SDK reads, following next_page_url.
	for _, c := range sids {
		path := "/v1/Conversations/" + c + "/Participants?PageSize=50"
		for path != "" {
			st, body, err := b.api("GET", path, nil)
			if err != nil || st != 200 {
				return fmt.Errorf("list %s: %d %v %s", path, st, err, body)
			}
			b.pages = append(b.pages, path)
			var page struct {
				Participants []json.RawMessage `json:"participants"`
				Meta         struct {
					NextPageURL *string `json:"next_page_url"`
				} `json:"meta"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			if len(page.Participants) != 50 && page.Meta.NextPageURL != nil {
				return fmt.Errorf("list %s: %d participants on a page of 50", path, len(page.Participants))
			}
			path = ""
			if page.Meta.NextPageURL != nil {
				u, err := url.Parse(*page.Meta.NextPageURL)
				if err != nil {
					return err
				}
				path = u.RequestURI()
			}
		}
	}
	b.stored = len(b.parts)
	return nil
}

// workload returns the workload of op for conc clients. run distinguishes identities of
// successive create runs.
func (b *bench) workload(op string, conc int, run string, pool *convPool, cycle bool) workload {
	rngs := make([]*rand.Rand, conc)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(uint64(i)+1, 42))
	}
	switch op {
	case "create":
		b.created = make([][]part, conc)
		return createWorkload(pool, b.cfg.perConv, conc, run, 0, func(w int, p part) { b.created[w] = append(b.created[w], p) })
	case "fetch-sid":
		return workload{name: op, next: func(w, i int) (request, bool) {
			p := b.parts[rngs[w].IntN(len(b.parts))]
			return request{method: "GET", path: "/v1/Conversations/" + p.conv + "/Participants/" + p.sid, want: 200}, true
		}}
	case "fetch-identity":
		return workload{name: op, next: func(w, i int) (request, bool) {
			p := b.parts[rngs[w].IntN(len(b.parts))]
			return request{method: "GET", path: "/v1/Conversations/" + p.conv + "/Participants/" + p.identity, want: 200}, true
		}}
	case "list":
		return workload{name: op, next: func(w, i int) (request, bool) {
			return request{method: "GET", path: b.pages[rngs[w].IntN(len(b.pages))], want: 200}, true
		}}
	case "update":
		return workload{name: op, next: func(w, i int) (request, bool) {
			p := b.parts[rngs[w].IntN(len(b.parts))]
			attrs := url.QueryEscape(fmt.Sprintf(`{"team":"support","tier":"gold","locale":"en-GB","tags":["bench","load"],"seq":%d}`, i))
			return request{method: "POST", path: "/v1/Conversations/" + p.conv + "/Participants/" + p.sid, body: "Attributes=" + attrs, want: 200}, true
		}}
	case "delete":
		var all []part
		for _, ps := range b.created {
			all = append(all, ps...)
		}
		var next atomic.Int64
		return workload{name: op, next: func(w, i int) (request, bool) {
			n := next.Add(1) - 1
			if n >= int64(len(all)) {
				if !cycle || len(all) == 0 {
					return request{}, false
				}
				n %= int64(len(all))
			}
			p := all[n]
			return request{method: "DELETE", path: "/v1/Conversations/" + p.conv + "/Participants/" + p.sid, want: 204}, true
		}}
	}
	panic("unknown op " + op)
}

// runTable measures every operation at every concurrency on Parley and on the bare handler.
func (b *bench) runTable() error {
	fmt.Fprintf(os.Stderr, "%s: seeding %d conversations of %d participants ...\n", b.backend, b.cfg.seedConvs, perConversation)
	if err := b.seedFixed(); err != nil {
		return err
	}
	needConvs := int(float64(b.cfg.maxRate)*(b.cfg.warmup+b.cfg.duration).Seconds())/(b.cfg.perConv) + 1
	for _, conc := range b.cfg.concurrency {
		var pool *convPool
		for _, op := range b.cfg.ops {
			if op == "create" && pool == nil {
				sids, err := b.createConversations(needConvs + conc)
				if err != nil {
					return err
				}
				pool = &convPool{sids: sids}
			}
			row := row{backend: b.backend, op: op, conc: conc}
			// The bare handler first, then Parley, back to back.
			cpuPerReq := map[bool]time.Duration{} // true: Parley
			for _, srv := range []*server{b.bare, b.parley} {
				p := pool
				if srv == b.bare {
					p = &convPool{endless: "CHbare"}
				}
				created := b.created
				if op == "delete" && srv == b.parley {
					if err := b.topUpDeletePool(conc); err != nil {
						return err
					}
				}
				// The bare handler deletes nothing, so it may go round the pool.
				wl := b.workload(op, conc, fmt.Sprintf("%s%d", srv.name[:1], conc), p, srv == b.bare)
				var prof chan error
				if srv == b.parley && b.cfg.profileDir != "" && conc == 16 {
					prof = b.profile(op)
				}
				cpu0, _, _ := procStat(srv.cmd.Process.Pid)
				res, err := drive(b.target(srv), wl, conc, b.cfg.warmup, b.cfg.duration)
				if err != nil {
					return fmt.Errorf("%s %s c=%d: %w", srv.name, op, conc, err)
				}
				// The server's CPU per request, warm-up included (its requests estimated at
				// the measured rate): comparable across runs on a shared machine, where
				// requests/s move with the other load.
				if cpu1, _, err := procStat(srv.cmd.Process.Pid); err == nil && res.RPS > 0 {
					cpuPerReq[srv == b.parley] = (cpu1 - cpu0) / time.Duration(res.RPS*(b.cfg.warmup+b.cfg.duration).Seconds())
				}
				if prof != nil {
					if err := <-prof; err != nil {
						fmt.Fprintln(os.Stderr, "profile:", err)
					}
					row.profiled = true
				}
				if srv == b.bare {
					row.bare = res
					b.created = created // the bare run's "created" must not replace Parley's pool
				} else {
					row.parley = res
				}
				if res.Sample != "" && res.Errors > 0 {
					fmt.Fprintf(os.Stderr, "  %s %s c=%d: %d errors, e.g. %s\n", srv.name, op, conc, res.Errors, res.Sample)
				}
			}
			if op == "create" {
				pool = nil // fresh conversations for the next concurrency
			}
			fmt.Fprintf(os.Stderr, "  %-8s %-14s c=%-3d parley %8.0f/s p50 %-8v p99 %-8v | bare %8.0f/s | ratio %.2f | server CPU/req parley %v bare %v\n",
				b.backend, op, conc, row.parley.RPS, row.parley.P50.Round(time.Microsecond), row.parley.P99.Round(time.Microsecond),
				row.bare.RPS, row.ratio(), cpuPerReq[true], cpuPerReq[false])
			b.rep.rows = append(b.rep.rows, row)
		}
	}
	return nil
}

// topUpDeletePool creates participants (untimed) until the delete pool holds -delete-pool.
func (b *bench) topUpDeletePool(conc int) error {
	have := 0
	for _, ps := range b.created {
		have += len(ps)
	}
	n := b.cfg.deletePool - have
	if n <= 0 {
		return nil
	}
	sids, err := b.createConversations(n/(b.cfg.perConv) + 17)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	b.created = append(b.created, nil)
	last := len(b.created) - 1
	wl := createWorkload(&convPool{sids: sids}, b.cfg.perConv, 16, fmt.Sprintf("d%d", conc), int64(n), func(_ int, p part) {
		mu.Lock()
		b.created[last] = append(b.created[last], p)
		mu.Unlock()
	})
	res, err := drive(b.target(b.parley), wl, 16, 0, time.Hour)
	if err == nil && res.Errors > 0 {
		err = fmt.Errorf("topping up the delete pool: %d errors, e.g. %s", res.Errors, res.Sample)
	}
	return err
}

// profile fetches a CPU profile of Parley covering the coming measurement.
func (b *bench) profile(op string) chan error {
	return b.profileFor(op, b.cfg.warmup+b.cfg.duration)
}

// profileFor fetches a CPU profile of Parley over the coming d, saved as <backend>-<op>.pprof.
func (b *bench) profileFor(op string, d time.Duration) chan error {
	done := make(chan error, 1)
	secs := int(d.Seconds())
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.parley.pprof, max(1, secs)))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(b.cfg.profileDir, fmt.Sprintf("%s-%s.pprof", b.backend, op)))
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return done
}

// runScale fills the database to cfg.scale participants, measuring fetch by SID and create at
// concurrency 16 once 10,000 are stored and again at the end.
func (b *bench) runScale() error {
	conc := 16
	var mu sync.Mutex
	var sample []part // every 10th participant stored: what fetch reads, spread over the database
	keep := func(_ int, p part) {
		mu.Lock()
		if b.stored%10 == 0 {
			sample = append(sample, p)
		}
		b.stored++
		mu.Unlock()
	}
	fill := func(to int) error {
		n := to - b.stored
		if n <= 0 {
			return nil
		}
		sids, err := b.createConversations((n+b.cfg.perConv-1)/b.cfg.perConv + conc) // each client may leave one part-filled
		if err != nil {
			return err
		}
		start := time.Now()
		wl := createWorkload(&convPool{sids: sids}, b.cfg.perConv, conc, fmt.Sprintf("s%d", b.stored), int64(n), keep)
		res, err := drive(b.target(b.parley), wl, conc, 0, 24*time.Hour)
		if err != nil {
			return err
		}
		if res.Errors > 0 {
			return fmt.Errorf("filling to %d: %d errors, e.g. %s", to, res.Errors, res.Sample)
		}
		fmt.Fprintf(os.Stderr, "%s: filled to %d participants (%.0f creates/s over %v)\n", b.backend, b.stored, res.RPS, time.Since(start).Round(time.Second))
		b.rep.fills = append(b.rep.fills, fmt.Sprintf("%s: filled to %d participants at %.0f creates/s (16 clients)", b.backend, b.stored, res.RPS))
		return nil
	}
	measure := func() error {
		// Write the fill's dirty pages (a gigabyte or more at 1,000,000) back to disk first, so
		// that the kernel's writeback does not run inside the measurement.
		flushDisk()
		b.parts = sample
		stored := b.stored
		wl := b.workload("fetch-sid", conc, "", nil, false)
		res, err := drive(b.target(b.parley), wl, conc, b.cfg.warmup, b.cfg.duration)
		if err != nil {
			return err
		}
		b.rep.scale = append(b.rep.scale, scaleRow{backend: b.backend, stored: stored, op: "fetch-sid", res: res})
		need := int(float64(b.cfg.maxRate)*(b.cfg.warmup+b.cfg.duration).Seconds())/(b.cfg.perConv) + conc
		sids, err := b.createConversations(need)
		if err != nil {
			return err
		}
		b.created = nil
		wl = createWorkload(&convPool{sids: sids}, b.cfg.perConv, conc, fmt.Sprintf("m%d", stored), 0, keep)
		res, err = drive(b.target(b.parley), wl, conc, b.cfg.warmup, b.cfg.duration)
		if err != nil {
			return err
		}
		b.rep.scale = append(b.rep.scale, scaleRow{backend: b.backend, stored: stored, op: "create", res: res})
		fmt.Fprintf(os.Stderr, "%s: at %d stored: fetch-sid and create measured\n", b.backend, stored)
		return nil
	}
	if err := fill(10_000); err != nil {
		return err
	}
	if err := measure(); err != nil {
		return err
	}
	if err := fill(b.cfg.scale); err != nil {
		return err
	}
	return measure()
}
