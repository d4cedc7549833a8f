package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// target is an HTTP server under load: its address and Basic credentials.
type target struct {
	addr string // host:port
	auth string // base64 of user:pass
}

// request is one HTTP request, pre-rendered.
type request struct {
	method, path string
	body         string
	want         int // expected status
}

// render writes the request as HTTP/1.1 bytes (keep-alive).
func (t target) render(buf []byte, r request) []byte {
	buf = append(buf, r.method...)
	buf = append(buf, ' ')
	buf = append(buf, r.path...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, t.addr...)
	buf = append(buf, "\r\nAuthorization: Basic "...)
	buf = append(buf, t.auth...)
	buf = append(buf, "\r\nUser-Agent: parley-bench\r\n"...)
	if r.method == "POST" {
		buf = append(buf, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(r.body)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	buf = append(buf, r.body...)
	return buf
}

// conn is one keep-alive client connection.
type conn struct {
	t   target
	c   net.Conn
	br  *bufio.Reader
	buf []byte
	out bytes.Buffer
}

func dial(t target) (*conn, error) {
	c, err := net.Dial("tcp", t.addr)
	if err != nil {
		return nil, err
	}
	return &conn{t: t, c: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

// do sends r and reads the response; the body is kept in cn.out when keep is set.
func (cn *conn) do(r request, keep bool) (int, error) {
	cn.buf = cn.t.render(cn.buf[:0], r)
	if _, err := cn.c.Write(cn.buf); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(cn.br, nil)
	if err != nil {
		return 0, err
	}
	cn.out.Reset()
	if keep {
		_, err = cn.out.ReadFrom(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.Close {
		return resp.StatusCode, errors.New("server closed the connection")
	}
	return resp.StatusCode, nil
}

func (cn *conn) close() { cn.c.Close() }

// workload generates the requests of one operation. next returns the request worker w sends
// as its i-th, or false when the workload is exhausted (a delete pool emptied). done, when
// set, sees each successful response body (kept only when keep is set).
type workload struct {
	name string
	next func(w, i int) (request, bool)
	keep bool
	done func(w int, body []byte)
}

// result of driving one workload against one server.
type result struct {
	Requests int
	Errors   int // transport errors and unexpected statuses
	Elapsed  time.Duration
	RPS      float64
	P50, P99 time.Duration
	Sample   string // one unexpected response, for the log
}

// drive runs wl with conc keep-alive connections: warmup (not measured), then measure.
func drive(t target, wl workload, conc int, warmup, measure time.Duration) (result, error) {
	type worker struct {
		lat    []int64
		errs   int
		sample string
	}
	workers := make([]*worker, conc)
	var measuring atomic.Bool
	start := time.Now()
	warmEnd := start.Add(warmup)
	end := warmEnd.Add(measure)
	var mStart time.Time
	var startOnce sync.Once
	var exhaustedAt atomic.Int64
	var wg sync.WaitGroup
	var dialErr error
	var dialMu sync.Mutex
	for w := range conc {
		workers[w] = &worker{lat: make([]int64, 0, 1<<14)}
		wg.Go(func() {
			me := workers[w]
			cn, err := dial(t)
			if err != nil {
				dialMu.Lock()
				dialErr = err
				dialMu.Unlock()
				return
			}
			defer func() { cn.close() }()
			for i := 0; ; i++ {
				now := time.Now()
				if now.After(end) {
					return
				}
				if !measuring.Load() && now.After(warmEnd) {
					startOnce.Do(func() { mStart = time.Now(); measuring.Store(true) })
				}
				req, ok := wl.next(w, i)
				if !ok {
					exhaustedAt.CompareAndSwap(0, time.Now().UnixNano())
					return
				}
				t0 := time.Now()
				status, err := cn.do(req, wl.keep)
				lat := time.Since(t0)
				in := measuring.Load()
				if err != nil || status != req.want {
					if in {
						me.errs++
					}
					if me.sample == "" {
						me.sample = fmt.Sprintf("%s %s -> %d %v %.200s", req.method, req.path, status, err, cn.out.String())
					}
					if err != nil {
						cn.close()
						if cn, err = dial(t); err != nil {
							return
						}
					}
					continue
				}
				if wl.done != nil {
					wl.done(w, cn.out.Bytes())
				}
				if in {
					me.lat = append(me.lat, int64(lat))
				}
			}
		})
	}
	wg.Wait()
	if dialErr != nil {
		return result{}, dialErr
	}
	var res result
	if !measuring.Load() {
		return res, fmt.Errorf("%s: the workload ran out during the warm-up", wl.name)
	}
	stop := end
	if ns := exhaustedAt.Load(); ns != 0 && time.Unix(0, ns).Before(stop) {
		stop = time.Unix(0, ns)
	}
	res.Elapsed = stop.Sub(mStart)
	var all []int64
	for _, w := range workers {
		all = append(all, w.lat...)
		res.Errors += w.errs
		if res.Sample == "" {
			res.Sample = w.sample
		}
	}
	res.Requests = len(all)
	if res.Elapsed > 0 {
		res.RPS = float64(res.Requests) / res.Elapsed.Seconds()
	}
	if len(all) > 0 {
		slices.Sort(all)
		res.P50 = time.Duration(all[len(all)*50/100])
		res.P99 = time.Duration(all[min(len(all)-1, len(all)*99/100)])
	}
	return res, nil
}

// fieldValue extracts the string value of "key":"..." from a JSON body (no escapes needed:
// SIDs and the harness's identities are plain).
func fieldValue(body []byte, key string) string {
	k := []byte(`"` + key + `":"`)
	i := bytes.Index(body, k)
	if i < 0 {
		return ""
	}
	rest := body[i+len(k):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
