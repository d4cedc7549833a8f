package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/syncview"
	"github.com/parley-dev/parley/internal/twilsock"
)

// The -chat mode: N Go clients speak twilsock to Parley's gateway (/v3/wsconnect) as the
// Conversations SDK does — init with an access token minted with the server's signing key,
// GET /Client/v2/Configuration, then POST /v4/Subscriptions for their conversation's messages
// list (the Sync list whose list_item_added event is the SDK's messageAdded). Clients are in
// conversations of chatGroup. It measures Parley's RSS, the latency from a REST message create
// to the last of the conversation's clients receiving the event, and the send-to-receive
// latency between two clients (A sends through the aim API over its socket, B gets the event),
// next to a plain WebSocket echo round trip on the bare server (same library) as baseline.

const chatGroup = 10 // clients per conversation

// chatIO bounds every socket operation of the harness's clients, so a broken run fails
// instead of hanging.
const chatIO = 30 * time.Second

// chatClient is one twilsock client.
type chatClient struct {
	c       *websocket.Conn
	wmu     sync.Mutex
	ids     atomic.Int64
	name    string
	onEvent func(payload []byte, at time.Time) // set before run; called by the read loop
	replies sync.Map                           // id → chan *twilsock.Frame, for requests after setup
}

func (c *chatClient) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), chatIO)
	defer cancel()
	return c.c.Write(ctx, websocket.MessageBinary, b)
}

func (c *chatClient) send(h twilsock.Encoder, payload []byte) error {
	b, err := twilsock.Encode(h, payload)
	if err != nil {
		return err
	}
	return c.write(b)
}

func (c *chatClient) nextID() string {
	return "TM" + c.name + "-" + strconv.FormatInt(c.ids.Add(1), 10)
}

// ack answers a server frame as the JS client does (a reply with status 200).
func (c *chatClient) ack(id string) error {
	return c.send(&twilsock.Reply{Header: twilsock.Header{Method: twilsock.MethodReply, ID: id, PayloadType: "application/json"}, Status: twilsock.StatusOK()}, nil)
}

// upstream sends a tunnelled request and returns its id.
func (c *chatClient) upstream(method, host, path string, body []byte) (string, error) {
	id := c.nextID()
	h := &twilsock.Message{Header: twilsock.Header{Method: twilsock.MethodMessage, ID: id}, ActiveGrant: "ip_messaging",
		HTTPRequest: twilsock.HTTPRequest{Host: host, Path: path, Method: method}}
	if body != nil {
		h.PayloadType = "application/json; charset=utf-8"
	}
	return id, c.send(h, body)
}

func (c *chatClient) read() (*twilsock.Frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), chatIO)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return twilsock.Parse(b, 0)
}

// await reads (during set-up, before run) until the reply to id, acking pings and
// notifications on the way; seen gets each notification's payload.
func (c *chatClient) await(id string, seen func([]byte)) (*twilsock.Frame, error) {
	for {
		f, err := c.read()
		if err != nil {
			return nil, err
		}
		switch f.Header.Method {
		case twilsock.MethodReply:
			if f.Header.ID == id {
				return f, nil
			}
		case twilsock.MethodPing:
			if err := c.ack(f.Header.ID); err != nil {
				return nil, err
			}
		case twilsock.MethodNotification:
			if seen != nil {
				seen(f.Payload)
			}
			if err := c.ack(f.Header.ID); err != nil {
				return nil, err
			}
		case twilsock.MethodClose:
			return nil, fmt.Errorf("%s: server closed: %s", c.name, f.RawHeader)
		}
	}
}

// replyStatus returns the reply's http_status code (or its status code for init).
func replyStatus(f *twilsock.Frame) (int, error) {
	var r twilsock.Reply
	if err := f.DecodeHeader(&r); err != nil {
		return 0, err
	}
	if r.HTTPStatus != nil {
		return r.HTTPStatus.Code, nil
	}
	return r.Status.Code, nil
}

// dialChat connects identity to the gateway at addr and does what the SDK does before it
// shows a conversation: init, configuration, subscription to the messages list.
func dialChat(addr, identity, token, messagesList string) (*chatClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), chatIO)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/v3/wsconnect", nil)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", identity, err)
	}
	ws.SetReadLimit(int64(twilsock.DefaultMaxFrameBytes))
	c := &chatClient{c: ws, name: identity}
	fail := func(step string, err error) (*chatClient, error) {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: %s: %w", identity, step, err)
	}
	id := c.nextID()
	if err := c.send(&twilsock.Init{Header: twilsock.Header{Method: twilsock.MethodInit, ID: id}, Token: token,
		Metadata:      &twilsock.Metadata{SDK: "JS", SDKV: "3.0.1"},
		Registrations: []twilsock.Registration{{Product: "ip_messaging", Type: "ers", MessageTypes: []string{syncview.MessageType}}},
		Capabilities:  []string{twilsock.CapabilityClientUpdate, twilsock.CapabilityTelemetry}}, nil); err != nil {
		return fail("init", err)
	}
	f, err := c.await(id, nil)
	if err == nil {
		if st, _ := replyStatus(f); st != 200 {
			err = fmt.Errorf("status %d: %s", st, f.RawHeader)
		}
	}
	if err != nil {
		return fail("init", err)
	}
	if id, err = c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil); err != nil {
		return fail("configuration", err)
	}
	if f, err = c.await(id, nil); err == nil {
		if st, _ := replyStatus(f); st != 200 {
			err = fmt.Errorf("status %d: %s", st, f.Payload)
		}
	}
	if err != nil {
		return fail("configuration", err)
	}
	body, _ := json.Marshal(map[string]any{"action": "establish", "correlation_id": 1,
		"requests": []map[string]any{{"object_sid": messagesList, "object_type": "list"}}})
	if id, err = c.upstream("POST", "cds.us1.twilio.com", "/v4/Subscriptions", body); err != nil {
		return fail("subscribe", err)
	}
	established := false
	seen := func(p []byte) { established = established || bytes.Contains(p, []byte(`"subscription_established"`)) }
	if f, err = c.await(id, seen); err == nil {
		if st, _ := replyStatus(f); st != 202 {
			err = fmt.Errorf("status %d: %s", st, f.Payload)
		}
	}
	// The confirmation is queued before the 202 (see syncview); a failure would be
	// subscription_failed instead.
	if err == nil && !established {
		err = errors.New("no subscription_established before the 202")
	}
	if err != nil {
		return fail("subscribe", err)
	}
	return c, nil
}

// run is the read loop after set-up: it acks pings and notifications, hands notifications to
// onEvent and replies to whoever waits for them. It returns when the socket ends.
func (c *chatClient) run() {
	for {
		_, b, err := c.c.Read(context.Background())
		at := time.Now()
		if err != nil {
			return
		}
		f, err := twilsock.Parse(b, 0)
		if err != nil {
			return
		}
		switch f.Header.Method {
		case twilsock.MethodNotification:
			if c.onEvent != nil {
				c.onEvent(f.Payload, at)
			}
			_ = c.ack(f.Header.ID)
		case twilsock.MethodPing:
			_ = c.ack(f.Header.ID)
		case twilsock.MethodReply:
			if ch, ok := c.replies.LoadAndDelete(f.Header.ID); ok {
				ch.(chan *twilsock.Frame) <- f
			}
		}
	}
}

// markerSeq finds "<marker><digits>;" in an event payload and returns the number.
func markerSeq(p []byte, marker string) (int, bool) {
	i := bytes.Index(p, []byte(marker))
	if i < 0 || !bytes.Contains(p, []byte(`"list_item_added"`)) {
		return 0, false
	}
	rest := p[i+len(marker):]
	j := bytes.IndexByte(rest, ';')
	if j <= 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil
}

// chatMsg is one REST-created message being followed to its conversation's clients.
type chatMsg struct {
	sent  time.Time
	left  atomic.Int32
	last  atomic.Int64 // UnixNano of the last receipt
	acked time.Duration
}

// durations sorts and summarizes a latency sample.
type durations []time.Duration

func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func (d durations) sorted() durations {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

func msUnit(d time.Duration) string { return ms(d) + " ms" }

// signingKey reads the account's API key and secret from parley serve's banner.
func (s *server) signingKey() (sid, secret string, err error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, l := range s.banner {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "API Key:"); ok && sid == "" {
				sid = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "API Secret:"); ok && secret == "" {
				secret = strings.Fields(v)[0]
			}
		}
		s.mu.Unlock()
		if sid != "" && secret != "" {
			return sid, secret, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", "", errors.New("parley serve printed no API Key/API Secret")
}

// echoRoundTrips measures n round trips of a size-byte binary message to the bare server's
// WebSocket echo.
func echoRoundTrips(addr string, n, size int) (durations, error) {
	ctx, cancel := context.WithTimeout(context.Background(), chatIO)
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/echo", nil)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("echo: %w", err)
	}
	defer ws.CloseNow()
	msg := bytes.Repeat([]byte("x"), size)
	var out durations
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), chatIO)
		t := time.Now()
		err := ws.Write(ctx, websocket.MessageBinary, msg)
		if err == nil {
			_, _, err = ws.Read(ctx)
		}
		cancel()
		if err != nil {
			return nil, fmt.Errorf("echo: %w", err)
		}
		out = append(out, time.Since(t))
		time.Sleep(5 * time.Millisecond)
	}
	return out.sorted(), nil
}

// echoHandler is the bare server's WebSocket echo (same library as Parley's gateway).
func echoHandler(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, b, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, b); err != nil {
			return
		}
	}
}

// runChat is the -chat mode; it returns the Markdown section.
func (b *bench) runChat() (string, error) {
	n := b.cfg.chat
	pid := b.parley.cmd.Process.Pid
	_, rss0, _ := procStat(pid)
	nconv := (n + chatGroup - 1) / chatGroup
	convs, err := b.createConversations(nconv)
	if err != nil {
		return "", err
	}
	ident := func(i int) string { return "chat" + strconv.Itoa(i) }
	if err := parallel(n, 16, func(i int) error {
		st, body, err := b.api("POST", "/v1/Conversations/"+convs[i/chatGroup]+"/Participants", url.Values{"Identity": {ident(i)}})
		if err != nil || st != 201 {
			return fmt.Errorf("participant %d: %d %v %s", i, st, err, body)
		}
		return nil
	}); err != nil {
		return "", err
	}
	st, body, err := b.api("GET", "/v1/Configuration", nil)
	if err != nil || st != 200 {
		return "", fmt.Errorf("configuration: %d %v %s", st, err, body)
	}
	service := fieldValue(body, "default_chat_service_sid")
	keySid, keySecret, err := b.parley.signingKey()
	if err != nil {
		return "", err
	}

	// Connect: init, configuration, subscription, 16 clients at a time.
	clients := make([]*chatClient, n)
	t0 := time.Now()
	err = parallel(n, 16, func(i int) error {
		tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: benchAccount, KeySid: keySid, KeySecret: keySecret,
			Identity: ident(i), Chat: accesstoken.ChatGrant{ServiceSid: service}, TTL: time.Hour}, time.Now())
		if err != nil {
			return err
		}
		c, err := dialChat(b.parley.addr, ident(i), tok, syncview.MessagesList(service, convs[i/chatGroup]).Sid)
		clients[i] = c
		return err
	})
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.c.CloseNow()
			}
		}
	}()
	if err != nil {
		return "", err
	}
	connected := time.Since(t0)
	time.Sleep(2 * time.Second)
	_, rssIdle, _ := procStat(pid)

	// Phase 1: REST creates to random conversations at a fixed rate; latency to the last of
	// the conversation's clients.
	total := int(float64(b.cfg.chatRate) * b.cfg.chatDuration.Seconds())
	msgs := make([]*chatMsg, total)
	var receipts, strays atomic.Int64
	for i := range msgs {
		msgs[i] = &chatMsg{}
	}
	pairRecv := make(chan int, 16)
	pairB := 1 % n // the phase-2 receiver
	for i, c := range clients {
		c := c
		isB := i == pairB
		c.onEvent = func(p []byte, at time.Time) {
			if seq, ok := markerSeq(p, "bm:"); ok && seq < len(msgs) {
				m := msgs[seq]
				receipts.Add(1)
				if m.left.Add(-1) >= 0 {
					m.last.Store(at.UnixNano())
				} else {
					strays.Add(1)
				}
				return
			}
			if seq, ok := markerSeq(p, "bp:"); ok && isB {
				pairRecv <- seq
			}
		}
		go c.run()
	}
	members := func(conv int) int32 { return int32(min(chatGroup, n-conv*chatGroup)) }
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: chatIO}
	var prof chan error
	if b.cfg.profileDir != "" && b.parley.pprof != "" {
		prof = b.profileFor("chat", b.cfg.chatDuration)
	}
	cpu0, _, _ := procStat(pid)
	tl := time.Now()
	tick := time.Second / time.Duration(max(1, b.cfg.chatRate))
	var wg sync.WaitGroup
	var sendErr atomic.Value
	sem := make(chan struct{}, 64)
	for seq := 0; seq < total; seq++ {
		if d := time.Until(tl.Add(time.Duration(seq) * tick)); d > 0 {
			time.Sleep(d)
		}
		ci := rand.IntN(nconv)
		m := msgs[seq]
		m.left.Store(members(ci))
		sem <- struct{}{}
		wg.Add(1)
		go func(seq int) {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest("POST", "http://"+b.parley.addr+"/v1/Conversations/"+convs[ci]+"/Messages",
				strings.NewReader(url.Values{"Body": {"bm:" + strconv.Itoa(seq) + ";"}, "Author": {"bench"}}.Encode()))
			req.SetBasicAuth(benchAccount, benchToken)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			m.sent = time.Now()
			resp, err := hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					err = fmt.Errorf("message create: %d", resp.StatusCode)
				}
			}
			m.acked = time.Since(m.sent)
			if err != nil {
				sendErr.CompareAndSwap(nil, err)
			}
		}(seq)
	}
	wg.Wait()
	if e, _ := sendErr.Load().(error); e != nil {
		return "", e
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		missing := int64(0)
		for _, m := range msgs {
			if l := m.left.Load(); l > 0 {
				missing += int64(l)
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	loadTime := time.Since(tl)
	if prof != nil {
		if err := <-prof; err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
	}
	cpu1, rssLoad, _ := procStat(pid)
	var fan, create durations
	missing := 0
	for _, m := range msgs {
		if m.left.Load() > 0 {
			missing++
			continue
		}
		fan = append(fan, time.Unix(0, m.last.Load()).Sub(m.sent))
		create = append(create, m.acked)
	}
	fan.sorted()
	create.sorted()
	if missing > 0 {
		return "", fmt.Errorf("%d of %d messages did not reach every client of their conversation within 30 s", missing, total)
	}

	// Phase 2: client A sends through the aim API over its socket, client B receives.
	a := clients[0]
	sendPath := "/Client/v2/Services/" + service + "/Conversations/" + convs[0] + "/Messages"
	var pair durations
	for k := 0; k < b.cfg.chatPairs; k++ {
		body, _ := json.Marshal(map[string]string{"body": "bp:" + strconv.Itoa(k) + ";"})
		id := a.nextID()
		reply := make(chan *twilsock.Frame, 1)
		a.replies.Store(id, reply)
		t := time.Now()
		if err := a.send(&twilsock.Message{Header: twilsock.Header{Method: twilsock.MethodMessage, ID: id, PayloadType: "application/json; charset=utf-8"},
			ActiveGrant: "ip_messaging", HTTPRequest: twilsock.HTTPRequest{Host: "aim.us1.twilio.com", Path: sendPath, Method: "POST"}}, body); err != nil {
			return "", fmt.Errorf("pair send: %w", err)
		}
		timeout := time.After(chatIO)
	wait:
		for {
			select {
			case seq := <-pairRecv:
				if seq == k {
					pair = append(pair, time.Since(t))
					break wait
				}
			case <-timeout:
				return "", fmt.Errorf("pair message %d never reached client B", k)
			}
		}
		select {
		case f := <-reply:
			if st, _ := replyStatus(f); st != 201 {
				return "", fmt.Errorf("pair send: status %d: %s", st, f.Payload)
			}
		case <-time.After(chatIO):
			return "", errors.New("pair send: no reply")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pair.sorted()
	echo, err := echoRoundTrips(b.bare.addr, b.cfg.chatPairs, 400)
	if err != nil {
		return "", err
	}
	peak, _ := b.parley.peakRSS()
	if b.cfg.profileDir != "" && b.parley.pprof != "" {
		if err := b.saveHeap("chat-heap"); err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		}
	}

	var out strings.Builder
	mbd := func(v int64) string { return fmt.Sprintf("%.0f MB", float64(v)/1e6) }
	ratio := func(a, b time.Duration) string {
		if b <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f×", float64(a)/float64(b))
	}
	fmt.Fprintf(&out, "### %s: %d chat clients in conversations of %d\n\n", b.backend, n, chatGroup)
	fmt.Fprintf(&out, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&out, "| RSS before the clients | %s |\n", mbd(rss0))
	fmt.Fprintf(&out, "| connect %d clients (init, configuration, subscribe; 16 at a time) | %s |\n", n, connected.Round(time.Millisecond))
	fmt.Fprintf(&out, "| RSS, clients connected and idle | %s (%.0f KB per client) |\n", mbd(rssIdle), float64(rssIdle-rss0)/1e3/float64(n))
	fmt.Fprintf(&out, "| REST creates: %d at %d/s to random conversations (%d events) | %s, CPU %.2f cores |\n", total, b.cfg.chatRate, receipts.Load(),
		loadTime.Round(time.Millisecond), float64(cpu1-cpu0)/float64(loadTime))
	fmt.Fprintf(&out, "| create → last of its %d clients has the event: p50, p99, max | %s, %s, %s |\n", chatGroup, msUnit(fan.pct(0.5)), msUnit(fan.pct(0.99)), msUnit(fan[len(fan)-1]))
	fmt.Fprintf(&out, "| create acknowledged (201): p50, p99 | %s, %s |\n", msUnit(create.pct(0.5)), msUnit(create.pct(0.99)))
	fmt.Fprintf(&out, "| RSS after the creates; peak RSS | %s; %s |\n", mbd(rssLoad), mbd(peak))
	fmt.Fprintf(&out, "| client A sends over its socket → client B has the event (%d, one at a time): p50, p99 | %s, %s |\n", len(pair), msUnit(pair.pct(0.5)), msUnit(pair.pct(0.99)))
	fmt.Fprintf(&out, "| bare WebSocket echo round trip (400 B, coder/websocket, %d): p50, p99 | %s, %s |\n", len(echo), msUnit(echo.pct(0.5)), msUnit(echo.pct(0.99)))
	fmt.Fprintf(&out, "| ratio A→B ÷ echo: p50, p99 | %s, %s |\n", ratio(pair.pct(0.5), echo.pct(0.5)), ratio(pair.pct(0.99), echo.pct(0.99)))
	fmt.Fprintf(&out, "| ratio create→last client ÷ echo: p50, p99 | %s, %s |\n\n", ratio(fan.pct(0.5), echo.pct(0.5)), ratio(fan.pct(0.99), echo.pct(0.99)))
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	fmt.Fprintf(&out, "Goal (issue 12) at %d clients: p99 create → last client < 100 ms: %s (%s); peak RSS < 300 MB: %s (%s)\n\n",
		n, met(fan.pct(0.99) < 100*time.Millisecond), msUnit(fan.pct(0.99)), met(peak < 300e6), mbd(peak))
	return out.String(), nil
}

// parallel runs f(0..n-1), k at a time, and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	var first atomic.Value
	for i := 0; i < n; i++ {
		if first.Load() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				first.CompareAndSwap(nil, err)
			}
		}(i)
	}
	wg.Wait()
	if e, _ := first.Load().(error); e != nil {
		return e
	}
	return nil
}

// saveHeap saves Parley's heap profile as <backend>-<name>.pprof in the profile directory.
func (b *bench) saveHeap(name string) error {
	resp, err := http.Get("http://" + b.parley.pprof + "/debug/pprof/heap")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(b.cfg.profileDir, b.backend+"-"+name+".pprof"))
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
