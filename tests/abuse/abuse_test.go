// Package abuse sends "parley serve" bad input of every kind — 10,000 malformed requests, slow
// clients that never finish their headers or bodies — and then proves the server still
// answers correctly and its data is unchanged.
package abuse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/proctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

const maxBody = 16 << 10

// start runs parley with short slow-client limits.
func start(t *testing.T) *proctest.Server {
	t.Helper()
	return proctest.Start(t, proctest.Build(t), "-db", filepath.Join(t.TempDir(), "abuse.db"),
		"-account", proctest.AccountSid+":"+proctest.AuthToken, "-max-body-bytes", strconv.Itoa(maxBody),
		"-read-header-timeout", "1s", "-read-timeout", "2s", "-write-timeout", "5s", "-idle-timeout", "5s")
}

// fixture is the data the abuse must not change.
type fixture struct {
	conv, chatSid, smsSid string
}

func setup(t *testing.T, s *proctest.Server) fixture {
	t.Helper()
	ctx := context.Background()
	mustDo := func(method, path string, form url.Values, want int) map[string]any {
		st, body, err := s.Do(ctx, method, path, form)
		if err != nil || st != want {
			t.Fatalf("%s %s: %d %v %s", method, path, st, err, body)
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return m
	}
	c := mustDo("POST", "/v1/Conversations", url.Values{"UniqueName": {"abuse"}, "Attributes": {`{"keep":"me"}`}}, 201)
	f := fixture{conv: c["sid"].(string)}
	p := mustDo("POST", "/v1/Conversations/"+f.conv+"/Participants", url.Values{"Identity": {"alice"}, "Attributes": {`{"a":1}`}}, 201)
	f.chatSid = p["sid"].(string)
	p = mustDo("POST", "/v1/Conversations/"+f.conv+"/Participants", url.Values{"MessagingBinding.Address": {"+15558675310"},
		"MessagingBinding.ProxyAddress": {"+15017122661"}}, 201)
	f.smsSid = p["sid"].(string)
	return f
}

// snapshot reads everything the abuse could touch: every page of each list (a list's
// PageSize is capped at its maximum, so the pages are followed through next_page_url).
func snapshot(t *testing.T, s *proctest.Server) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, l := range []struct{ path, key string }{{"/v1/Conversations?PageSize=1000", "conversations"}, {"/v1/Services?PageSize=1000", "services"},
		{"/v1/Conversations/abuse/Participants?PageSize=1000", "participants"}, {"/v1/Roles", "roles"}} {
		var items []any
		for path := l.path; path != ""; {
			st, body, err := s.Do(context.Background(), "GET", path, nil)
			if err != nil || st != 200 {
				t.Fatalf("GET %s: %d %v %s", path, st, err, body)
			}
			var page map[string]any
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			pageItems, _ := page[l.key].([]any)
			items = append(items, pageItems...)
			path = ""
			if meta, _ := page["meta"].(map[string]any); meta != nil {
				if next, _ := meta["next_page_url"].(string); next != "" {
					u, err := url.Parse(next)
					if err != nil {
						t.Fatal(err)
					}
					path = u.RequestURI()
				}
			}
		}
		out[l.path] = items
	}
	return out
}

// abuse is one kind of malformed request: raw bytes sent on a fresh connection, and the
// statuses it may get (0: the server may just close the connection).
type abuse struct {
	name   string
	raw    func(f fixture, i int) string
	want   []int
	twilio bool // the answer must be a Twilio error body
	// halfClose shuts the client's side after sending (the request is incomplete). Go's
	// server takes that for a client gone away and cancels the request.
	halfClose bool
}

var goodAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(proctest.AccountSid+":"+proctest.AuthToken))

func req(method, path, auth, ctype, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path)
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if method == "POST" || body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

const form = "application/x-www-form-urlencoded"

func kinds() []abuse {
	parts := func(f fixture) string { return "/v1/Conversations/" + f.conv + "/Participants" }
	return []abuse{
		{"no credentials", func(f fixture, i int) string { return req("GET", parts(f), "", "", "") }, []int{401}, true, false},
		{"wrong token", func(f fixture, i int) string {
			return req("POST", parts(f), "Basic "+base64.StdEncoding.EncodeToString([]byte(proctest.AccountSid+":nope"+strconv.Itoa(i))), form, "Identity=mallory")
		}, []int{401}, true, false},
		{"garbage authorization", func(f fixture, i int) string { return req("GET", parts(f), "Basic !!!%%%", "", "") }, []int{401}, true, false},
		{"unknown account", func(f fixture, i int) string {
			return req("DELETE", parts(f)+"/"+f.chatSid, "Basic "+base64.StdEncoding.EncodeToString([]byte("ACffffffffffffffffffffffffffffffff:x")), "", "")
		}, []int{401}, true, false},
		{"unknown path", func(f fixture, i int) string { return req("GET", "/v1/Nope/"+strconv.Itoa(i), goodAuth, "", "") }, []int{404}, true, false},
		{"unclean path", func(f fixture, i int) string {
			return req("DELETE", "/v1/Conversations/x/../"+f.conv, goodAuth, "", "")
		}, []int{404, 400, 301}, false, false},
		{"wrong method", func(f fixture, i int) string { return req("PUT", parts(f), goodAuth, form, "Identity=x") }, []int{405}, true, false},
		{"malformed form", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity=%zz&Attributes=%")
		}, []int{400}, true, false},
		{"identity too long", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity="+strings.Repeat("i", 300+i%50))
		}, []int{400}, true, false},
		{"identity not UTF-8", func(f fixture, i int) string { return req("POST", parts(f), goodAuth, form, "Identity=%ff%fe") }, []int{400}, true, false},
		{"attributes not JSON", func(f fixture, i int) string {
			return req("POST", parts(f)+"/"+f.chatSid, goodAuth, form, "Attributes=%7Bnot+json")
		}, []int{400}, true, false},
		{"attributes too large", func(f fixture, i int) string {
			return req("POST", parts(f)+"/"+f.chatSid, goodAuth, form, "Attributes="+url.QueryEscape(`{"x":"`+strings.Repeat("y", 5000)+`"}`))
		}, []int{400}, true, false},
		{"too many parameters", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, strings.Repeat("a=1&", 1000)+"Identity=z")
		}, []int{400}, true, false},
		{"body over the limit", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity=big&Attributes="+strings.Repeat("x", maxBody+10))
		}, []int{413}, true, false},
		{"bad page token", func(f fixture, i int) string {
			return req("GET", parts(f)+"?PageToken=PX"+strconv.Itoa(i), goodAuth, "", "")
		}, []int{400}, true, false},
		{"bad page size", func(f fixture, i int) string {
			return req("GET", parts(f)+"?PageSize=-"+strconv.Itoa(i), goodAuth, "", "")
		}, []int{400}, true, false},
		{"unknown conversation", func(f fixture, i int) string {
			return req("POST", "/v1/Conversations/CHffffffffffffffffffffffffffffffff/Participants", goodAuth, form, "Identity=ghost")
		}, []int{404}, true, false},
		{"unknown participant", func(f fixture, i int) string {
			return req("DELETE", parts(f)+"/MBffffffffffffffffffffffffffffffff", goodAuth, "", "")
		}, []int{404}, true, false},
		{"duplicate identity", func(f fixture, i int) string { return req("POST", parts(f), goodAuth, form, "Identity=alice") }, []int{409}, true, false},
		{"duplicate binding", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "MessagingBinding.Address=%2B15558675310&MessagingBinding.ProxyAddress=%2B15017122661")
		}, []int{409}, true, false},
		{"identity and address", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity=x&MessagingBinding.Address=%2B15550000000")
		}, []int{400}, true, false},
		{"bad webhook header", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity=hook", "X-Twilio-Webhook-Enabled: maybe")
		}, []int{400}, true, false},
		{"bad date", func(f fixture, i int) string {
			return req("POST", parts(f), goodAuth, form, "Identity=d"+strconv.Itoa(i)+"&DateCreated=yesterday")
		}, []int{400}, true, false},
		{"bad role", func(f fixture, i int) string {
			return req("POST", parts(f)+"/"+f.chatSid, goodAuth, form, "RoleSid=RLffffffffffffffffffffffffffffffff")
		}, []int{400}, true, false},
		{"garbage request line", func(f fixture, i int) string { return "GARBAGE\x00\x01 / HTTP/9.9\r\n\r\n" }, []int{400, 505, 0}, false, false},
		{"bad content length", func(f fixture, i int) string {
			return "POST " + parts(f) + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodAuth + "\r\nContent-Length: abc\r\n\r\nIdentity=x"
		}, []int{400, 0}, false, false},
		{"bad chunked body", func(f fixture, i int) string {
			return "POST " + parts(f) + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodAuth + "\r\nContent-Type: " + form +
				"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nIdentity=chunk\r\n0\r\n\r\n"
		}, []int{400, 0}, false, false},
		{"truncated body", func(f fixture, i int) string {
			return "POST " + parts(f) + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodAuth + "\r\nContent-Type: " + form +
				"\r\nContent-Length: 500\r\n\r\nIdentity=trunc" // then the client closes
		}, []int{400, 200, 0}, false, true},
		{"header too large", func(f fixture, i int) string {
			return req("GET", parts(f), goodAuth, "", "", "X-Big: "+strings.Repeat("h", 70<<10))
		}, []int{431, 400, 0}, false, false},
		{"bad escape in path", func(f fixture, i int) string {
			return req("GET", "/v1/Conversations/%zz/Participants", goodAuth, "", "")
		}, []int{400, 404}, false, false},
		{"control bytes in header", func(f fixture, i int) string {
			return "GET " + parts(f) + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodAuth + "\r\nX-Evil: a\x00b\r\n\r\n"
		}, []int{400, 0}, false, false},
	}
}

// send writes raw on a new connection (half-closing it after when halfClose) and reads the
// answer's status (0 when the server closed the connection without one) and body.
func send(addr, raw string, halfClose bool) (int, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return 0, nil, nil // the server may stop reading an oversized request and close
	}
	if halfClose {
		_ = c.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, nil
}

// TestTenThousandMalformedRequests sends 10,000 malformed requests of the kinds above (8 at a
// time), each of which must get one of its expected 4xx answers (never a 2xx or 5xx), then
// checks the data is exactly as before and the server still serves reads and writes.
func TestTenThousandMalformedRequests(t *testing.T) {
	s := start(t)
	f := setup(t, s)
	before := snapshot(t, s)
	ks := kinds()
	const total = 10000
	var next atomic.Int64
	var mu sync.Mutex
	counts := map[string]map[int]int{}
	var failures []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				k := ks[i%len(ks)]
				st, body, err := send(s.Addr, k.raw(f, i), k.halfClose)
				ok := err == nil && contains(k.want, st)
				if ok && k.twilio {
					var e struct {
						Code     int    `json:"code"`
						Message  string `json:"message"`
						MoreInfo string `json:"more_info"`
						Status   int    `json:"status"`
					}
					ok = json.Unmarshal(body, &e) == nil && e.Status == st && e.Code != 0 && e.Message != "" && e.MoreInfo != ""
				}
				mu.Lock()
				if counts[k.name] == nil {
					counts[k.name] = map[int]int{}
				}
				counts[k.name][st]++
				if !ok && len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("%s: got %d %v %.300s, want one of %v", k.name, st, err, body, k.want))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("answers by kind: %v", counts)
	if !s.Alive() {
		t.Fatalf("parley died; stderr:\n%s", s.Stderr())
	}
	if after := snapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("data changed by malformed requests:\nbefore %v\nafter  %v", before, after)
	}
	checkServes(t, s, f)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// checkServes proves the server answers correctly: reads the fixture, creates, updates and
// deletes a participant.
func checkServes(t *testing.T, s *proctest.Server, f fixture) {
	t.Helper()
	ctx := context.Background()
	st, body, err := s.Do(ctx, "GET", "/v1/Conversations/"+f.conv+"/Participants/alice", nil)
	if err != nil || st != 200 || !bytes.Contains(body, []byte(f.chatSid)) {
		t.Fatalf("fetch alice: %d %v %s", st, err, body)
	}
	st, body, err = s.Do(ctx, "POST", "/v1/Conversations/"+f.conv+"/Participants", url.Values{"Identity": {"bob"}})
	if err != nil || st != 201 {
		t.Fatalf("create bob: %d %v %s", st, err, body)
	}
	if st, body, err = s.Do(ctx, "POST", "/v1/Conversations/"+f.conv+"/Participants/bob", url.Values{"Attributes": {`{"b":2}`}}); err != nil || st != 200 {
		t.Fatalf("update bob: %d %v %s", st, err, body)
	}
	if st, body, err = s.Do(ctx, "DELETE", "/v1/Conversations/"+f.conv+"/Participants/bob", nil); err != nil || st != 204 {
		t.Fatalf("delete bob: %d %v %s", st, err, body)
	}
}

// TestSlowClientsAreCut opens connections that send their headers, or their body, a byte at
// a time and never finish (slowloris): the server closes each once -read-header-timeout or
// -read-timeout has passed, creates nothing, and keeps serving others meanwhile.
func TestSlowClientsAreCut(t *testing.T) {
	s := start(t)
	f := setup(t, s)
	before := snapshot(t, s)
	const slow = 100
	var cut atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for i := range slow {
		wg.Go(func() {
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			var head string
			if i%2 == 0 { // headers that never end
				head = "POST /v1/Conversations/" + f.conv + "/Participants HTTP/1.1\r\nHost: x\r\n"
			} else { // a body that never ends
				head = "POST /v1/Conversations/" + f.conv + "/Participants HTTP/1.1\r\nHost: x\r\nAuthorization: " + goodAuth +
					"\r\nContent-Type: " + form + "\r\nContent-Length: 1000\r\n\r\nIdentity=slow" + strconv.Itoa(i)
			}
			if _, err := io.WriteString(c, head); err != nil {
				t.Error(err)
				return
			}
			// Trickle a byte every 200ms for up to 15s; the server must hang up long before.
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(15 * time.Second)
			buf := make([]byte, 4096)
			for {
				select {
				case <-deadline:
					return
				case <-tick.C:
				}
				_, werr := c.Write([]byte("x"))
				_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
				_, rerr := c.Read(buf)
				if werr != nil || (rerr != nil && !isTimeout(rerr)) {
					cut.Add(1)
					return
				}
				if rerr == nil { // an answer (e.g. 400 for the body that timed out): read to the close
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, _ = io.Copy(io.Discard, c)
					cut.Add(1)
					return
				}
			}
		})
	}
	// Meanwhile, normal requests are served promptly.
	for range 20 {
		t0 := time.Now()
		if st, body, err := s.Do(context.Background(), "GET", "/v1/Conversations/"+f.conv+"/Participants/alice", nil); err != nil || st != 200 {
			t.Fatalf("fetch during slowloris: %d %v %s", st, err, body)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Fatalf("fetch during slowloris took %v", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if n := cut.Load(); n != slow {
		t.Fatalf("%d of %d slow connections were cut within 15s", n, slow)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Fatalf("cutting slow clients took %v; the timeouts are 1s (headers) and 2s (whole request)", d)
	}
	if after := snapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("slow clients changed data:\nbefore %v\nafter  %v", before, after)
	}
	checkServes(t, s, f)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
