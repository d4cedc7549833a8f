package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The -streams mode: N live streams (/parley/v1/Users/{identity}/Stream, one identity each,
// in conversations of up to 1,000 participants) are opened and left idle, then one message per
// conversation reaches every stream while another account creates conversations one after the
// other. It reports Parley's RSS and CPU with the streams idle, the other account's create
// latency during the fan-out, and RSS after the fan-out and once the streams are closed.

// otherAccount is the second tenant of the -streams mode.
const (
	otherAccount = "AC00000000000000000000000000000001"
	otherToken   = "othertenanttoken"
)

// procStat returns the process's CPU time (user + system) and current RSS.
func procStat(pid int) (cpu time.Duration, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
	st2, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(st2), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			rss = n << 10
		}
	}
	return cpu, rss, nil
}

// openStreamConn opens one stream and waits for its ": live" comment; events then count into
// got. It returns the connection (closing it ends the stream).
func openStreamConn(addr, identity string, got *atomic.Int64) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "GET /parley/v1/Users/%s/Stream HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nAccept: text/event-stream\r\n\r\n", identity, addr, basicAuth())
	r := bufio.NewReaderSize(c, 4096)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		c.Close()
		return nil, fmt.Errorf("stream %s: %q %v", identity, status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if strings.HasPrefix(line, ": live") {
			break
		}
	}
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "event: onMessageAdded") {
				got.Add(1)
			}
		}
	}()
	return c, nil
}

// runStreams is the -streams mode; it returns the Markdown section.
func (b *bench) runStreams() (string, error) {
	n := b.cfg.streams
	pid := b.parley.cmd.Process.Pid
	var out strings.Builder
	fmt.Fprintf(&out, "### %s: %d idle streams\n\n", b.backend, n)
	_, rss0, _ := procStat(pid)

	// Conversations of up to 1,000 chat participants, identity s<i>.
	convs, err := b.createConversations((n + perConversation - 1) / perConversation)
	if err != nil {
		return "", err
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			st, body, err := b.api("POST", "/v1/Conversations/"+convs[i/perConversation]+"/Participants", url.Values{"Identity": {"s" + strconv.Itoa(i)}})
			if err != nil || st != 201 {
				firstErr.CompareAndSwap(nil, fmt.Errorf("participant %d: %d %v %s", i, st, err, body))
			}
		}(i)
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		return "", e
	}

	var got atomic.Int64
	conns := make([]net.Conn, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := openStreamConn(b.parley.addr, "s"+strconv.Itoa(i), &got)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	closeAll := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	defer closeAll()
	if e, _ := firstErr.Load().(error); e != nil {
		return "", e
	}
	opened := time.Since(t0)

	// Idle: CPU over a window, RSS at its end.
	const idle = 10 * time.Second
	cpu0, _, _ := procStat(pid)
	time.Sleep(idle)
	cpu1, rssIdle, _ := procStat(pid)
	idleCores := float64(cpu1-cpu0) / float64(idle)

	// Fan-out while the other tenant creates conversations one after the other.
	stop := make(chan struct{})
	var lat []time.Duration
	var latErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cl := &http.Client{}
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("POST", "http://"+b.parley.addr+"/v1/Conversations", strings.NewReader("FriendlyName=other"))
			req.SetBasicAuth(otherAccount, otherToken)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			t := time.Now()
			resp, err := cl.Do(req)
			if err != nil {
				latErr = err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				latErr = fmt.Errorf("other tenant: %d", resp.StatusCode)
				return
			}
			lat = append(lat, time.Since(t))
		}
	}()
	time.Sleep(500 * time.Millisecond) // a baseline before the fan-out
	cpuF0, _, _ := procStat(pid)
	tf := time.Now()
	for _, cv := range convs {
		if st, body, err := b.api("POST", "/v1/Conversations/"+cv+"/Messages", url.Values{"Body": {"fan-out"}, "Author": {"bench"}}); err != nil || st != 201 {
			close(stop)
			return "", fmt.Errorf("message: %d %v %s", st, err, body)
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for got.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fanout := time.Since(tf)
	cpuF1, rssFan, _ := procStat(pid)
	close(stop)
	<-done
	if latErr != nil {
		return "", latErr
	}
	if got.Load() < int64(n) {
		return "", fmt.Errorf("fan-out: %d of %d streams got the message within 5 minutes", got.Load(), n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}

	closeAll()
	settle := b.cfg.streamsSettle
	time.Sleep(settle)
	_, rssClosed, _ := procStat(pid)
	mb := func(v int64) string { return fmt.Sprintf("%.0f MB", float64(v)/1e6) }
	fmt.Fprintf(&out, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&out, "| RSS before the streams | %s |\n", mb(rss0))
	fmt.Fprintf(&out, "| open %d streams (16 at a time) | %s |\n", n, opened.Round(time.Millisecond))
	fmt.Fprintf(&out, "| RSS, streams idle | %s |\n", mb(rssIdle))
	fmt.Fprintf(&out, "| CPU, streams idle (%s window) | %.3f cores |\n", idle, idleCores)
	fmt.Fprintf(&out, "| fan-out: %d messages → every stream has its event | %s |\n", len(convs), fanout.Round(time.Millisecond))
	fmt.Fprintf(&out, "| CPU during the fan-out | %.2f cores |\n", float64(cpuF1-cpuF0)/float64(fanout))
	fmt.Fprintf(&out, "| RSS after the fan-out | %s |\n", mb(rssFan))
	fmt.Fprintf(&out, "| other account's creates during it: n, p50, p99, max | %d, %s, %s, %s |\n", len(lat),
		pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	fmt.Fprintf(&out, "| RSS %s after every stream closed | %s |\n\n", settle, mb(rssClosed))
	return out.String(), nil
}
