package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

type mediaResp struct {
	Sid         string            `json:"sid"`
	AccountSid  string            `json:"account_sid"`
	ServiceSid  string            `json:"service_sid"`
	ChannelSid  *string           `json:"channel_sid"`
	MessageSid  *string           `json:"message_sid"`
	Size        int64             `json:"size"`
	ContentType string            `json:"content_type"`
	Filename    *string           `json:"filename"`
	Author      string            `json:"author"`
	Category    string            `json:"category"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
	Code        int               `json:"code"`
}

// raw sends one request with a raw body and returns the response (body read).
func raw(t *testing.T, method, url string, body []byte, hdr map[string]string, user, pass string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type errResp struct {
	Code   int `json:"code"`
	Status int `json:"status"`
}

func wantErr(t *testing.T, what string, resp *http.Response, b []byte, status, code int) {
	t.Helper()
	e := decode[errResp](t, b)
	if resp.StatusCode != status || e.Code != code || e.Status != status {
		t.Errorf("%s: got %d %s, want %d/%d", what, resp.StatusCode, b, status, code)
	}
}

// defaultService returns the SID of the first account's default service.
func defaultService(t *testing.T, srv *testserver.Server, user, pass string) string {
	t.Helper()
	st, b := srv.DoAs(t, user, pass, "GET", "/v1/Services", nil, nil)
	if st != 200 {
		t.Fatalf("list services: %d %s", st, b)
	}
	v := decode[struct {
		Services []struct {
			Sid string `json:"sid"`
		} `json:"services"`
	}](t, b)
	if len(v.Services) == 0 {
		t.Fatal("no service")
	}
	return v.Services[0].Sid
}

func upload(t *testing.T, srv *testserver.Server, is string, data []byte, ct string) mediaResp {
	t.Helper()
	resp, b := raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media?Filename=cat.png", data, map[string]string{"Content-Type": ct},
		testserver.AccountSid, testserver.AuthToken)
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	return decode[mediaResp](t, b)
}

func TestMediaUploadFetchContent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		data := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640000 bytes: three chunks
		m := upload(t, srv, is, data, "image/png")
		if !conv.IsSID("ME", m.Sid) || m.ServiceSid != is || m.AccountSid != testserver.AccountSid || m.Size != int64(len(data)) ||
			m.ContentType != "image/png" || m.Filename == nil || *m.Filename != "cat.png" || m.Author != "system" || m.Category != "media" ||
			m.ChannelSid != nil || m.MessageSid != nil || m.URL != "/v1/Services/"+is+"/Media/"+m.Sid ||
			m.Links["content"] != m.URL+"/Content" {
			t.Fatalf("create reply: %+v", m)
		}
		if _, ok := m.Links["content_direct_temporary"]; ok {
			t.Errorf("create reply has content_direct_temporary (Twilio's has only links.content): %+v", m.Links)
		}

		// Fetch, with the account and with an API key.
		for _, cred := range [][2]string{{testserver.AccountSid, testserver.AuthToken}, {testserver.APIKeySid, testserver.APIKeySecret}} {
			resp, b := raw(t, "GET", srv.URL+m.URL, nil, nil, cred[0], cred[1])
			f := decode[mediaResp](t, b)
			if resp.StatusCode != 200 || f.Sid != m.Sid || f.Size != m.Size || !strings.HasPrefix(f.Links["content_direct_temporary"], srv.URL+m.URL+"/Content?") {
				t.Fatalf("fetch as %s: %d %s", cred[0], resp.StatusCode, b)
			}
		}
		resp, b := raw(t, "GET", srv.URL+m.URL, nil, nil, testserver.AccountSid, testserver.AuthToken)
		if resp.StatusCode != 200 {
			t.Fatalf("fetch: %d %s", resp.StatusCode, b)
		}
		temp := decode[mediaResp](t, b).Links["content_direct_temporary"]

		// Content with credentials, and through the temporary URL without any.
		resp, b = raw(t, "GET", srv.URL+m.Links["content"], nil, nil, testserver.AccountSid, testserver.AuthToken)
		if resp.StatusCode != 200 || !bytes.Equal(b, data) || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("content: %d, %d bytes, %q", resp.StatusCode, len(b), resp.Header.Get("Content-Type"))
		}
		resp, b = raw(t, "GET", srv.URL+m.Links["content"], nil, nil, "", "")
		wantErr(t, "content without credentials", resp, b, 401, 20003)
		resp, b = raw(t, "GET", temp, nil, nil, "", "")
		if resp.StatusCode != 200 || !bytes.Equal(b, data) {
			t.Fatalf("temporary URL: %d, %d bytes", resp.StatusCode, len(b))
		}
		resp, b = raw(t, "GET", strings.Replace(temp, "Signature=", "Signature=0", 1), nil, nil, "", "")
		wantErr(t, "forged signature", resp, b, 403, 20403)
		srv.Clock.Advance(conv.MediaURLTTL + time.Second)
		resp, b = raw(t, "GET", temp, nil, nil, "", "")
		wantErr(t, "expired temporary URL", resp, b, 403, 20403)

		// Batch fetch (the SDK's MediaSet).
		body := `{"command":"get","list":[{"media_sid":"` + m.Sid + `"},{"media_sid":"ME00000000000000000000000000000099"}]}`
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/MediaSet", []byte(body), map[string]string{"Content-Type": "application/json"},
			testserver.AccountSid, testserver.AuthToken)
		set := decode[[]struct {
			Code        int        `json:"code"`
			MediaRecord *mediaResp `json:"media_record"`
		}](t, b)
		if resp.StatusCode != 200 || len(set) != 2 || set[0].Code != 200 || set[0].MediaRecord.Sid != m.Sid ||
			set[0].MediaRecord.Links["content_direct_temporary"] == "" || set[1].Code != 404 {
			t.Fatalf("MediaSet: %d %s", resp.StatusCode, b)
		}

		// Multipart, as the Kotlin SDK and Twilio's form sample send it.
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		_ = mw.WriteField("FileName", "ignored")
		fw, _ := mw.CreateFormFile("file", "notes.txt")
		_, _ = fw.Write([]byte("hello"))
		_ = mw.Close()
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media?Category=media", mp.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()},
			testserver.AccountSid, testserver.AuthToken)
		mm := decode[mediaResp](t, b)
		if resp.StatusCode != 201 || mm.Size != 5 || mm.ContentType != "application/octet-stream" || mm.Filename == nil || *mm.Filename != "notes.txt" {
			t.Fatalf("multipart: %d %s", resp.StatusCode, b)
		}
	})
}

func TestMediaBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		is2 := defaultService(t, srv, testserver.Account2Sid, testserver.Auth2Token)
		post := func(path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
			return raw(t, "POST", srv.URL+path, body, hdr, testserver.AccountSid, testserver.AuthToken)
		}
		resp, b := post("/v1/Services/"+is+"/Media", []byte("x"), nil)
		wantErr(t, "no content type", resp, b, 400, 50511)
		resp, b = post("/v1/Services/"+is+"/Media", []byte("x"), map[string]string{"Content-Type": "not a type"})
		wantErr(t, "malformed content type", resp, b, 400, 50511)
		resp, b = post("/v1/Services/"+is+"/Media?Category=pictures", []byte("x"), map[string]string{"Content-Type": "image/png"})
		wantErr(t, "bad category", resp, b, 400, 20422)
		resp, b = post("/v1/Services/"+is+"/Media?Filename=a%00b", []byte("x"), map[string]string{"Content-Type": "image/png"})
		wantErr(t, "NUL in the filename", resp, b, 400, 20422)
		resp, b = post("/v1/Services/"+is2+"/Media", []byte("x"), map[string]string{"Content-Type": "image/png"})
		wantErr(t, "another account's service", resp, b, 404, 20404)
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("x"), map[string]string{"Content-Type": "image/png"}, "", "")
		wantErr(t, "no credentials", resp, b, 401, 20003)
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("x"), map[string]string{"Content-Type": "image/png"}, testserver.AccountSid, "wrong")
		wantErr(t, "wrong password", resp, b, 401, 20003)

		m := upload(t, srv, is, []byte("abc"), "text/plain")
		resp, b = raw(t, "GET", srv.URL+"/v1/Services/"+is+"/Media/MEnope", nil, nil, testserver.AccountSid, testserver.AuthToken)
		wantErr(t, "malformed sid", resp, b, 400, 4000)
		resp, b = raw(t, "GET", srv.URL+"/v1/Services/"+is+"/Media/ME00000000000000000000000000000099", nil, nil, testserver.AccountSid, testserver.AuthToken)
		wantErr(t, "unknown sid", resp, b, 404, 4041)
		resp, b = raw(t, "GET", srv.URL+"/v1/Services/"+is2+"/Media/"+m.Sid, nil, nil, testserver.Account2Sid, testserver.Auth2Token)
		wantErr(t, "another account's media", resp, b, 404, 4041)
		resp, b = raw(t, "DELETE", srv.URL+m.URL, nil, nil, testserver.AccountSid, testserver.AuthToken)
		wantErr(t, "DELETE", resp, b, 405, 20004)

		// Access tokens (the client SDK): scoped to the service, verified like twilsock's.
		now := srv.Clock.Now()
		tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: testserver.AccountSid, KeySid: testserver.APIKeySid,
			KeySecret: testserver.APIKeySecret, Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: is}}, now)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: testserver.AccountSid, KeySid: testserver.APIKeySid,
			KeySecret: testserver.APIKeySecret, Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: "IS00000000000000000000000000000099"}}, now)
		forged, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: testserver.AccountSid, KeySid: testserver.APIKeySid,
			KeySecret: "forged", Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: is}}, now)
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("hi"), map[string]string{"Content-Type": "text/plain", "X-Twilio-Token": tok}, "", "")
		if resp.StatusCode != 201 || decode[mediaResp](t, b).Author != "alice" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("token upload: %d %s %v", resp.StatusCode, b, resp.Header)
		}
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("hi"), map[string]string{"Content-Type": "text/plain", "X-Twilio-Token": other}, "", "")
		wantErr(t, "token of another service", resp, b, 403, 20101)
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("hi"), map[string]string{"Content-Type": "text/plain", "X-Twilio-Token": forged}, "", "")
		wantErr(t, "forged token", resp, b, 403, 20107)
		resp, b = raw(t, "POST", srv.URL+"/v1/Services/"+is+"/Media", []byte("hi"), map[string]string{"Content-Type": "text/plain", "X-Twilio-Token": "garbage"}, "", "")
		wantErr(t, "garbage token", resp, b, 403, 20101)
		resp, _ = raw(t, "OPTIONS", srv.URL+"/v1/Services/"+is+"/Media", nil, map[string]string{"Origin": "http://app.test",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-twilio-token,content-type"}, "", "")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Twilio-Token") {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})
}

type msgResp struct {
	Sid   string  `json:"sid"`
	Body  *string `json:"body"`
	Media []struct {
		Sid         string  `json:"sid"`
		Size        int64   `json:"size"`
		ContentType string  `json:"content_type"`
		Filename    *string `json:"filename"`
	} `json:"media"`
	Code int `json:"code"`
}

func TestMessageWithMedia(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		is2 := defaultService(t, srv, testserver.Account2Sid, testserver.Auth2Token)
		st, b := srv.Do(t, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "media"})
		if st != 201 {
			t.Fatalf("conversation: %d %s", st, b)
		}
		ch := decode[struct {
			Sid string `json:"sid"`
		}](t, b).Sid
		m := upload(t, srv, is, []byte("PNGDATA"), "image/png")

		st, b = srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"MediaSid": m.Sid})
		msg := decode[msgResp](t, b)
		if st != 201 || msg.Body != nil || len(msg.Media) != 1 || msg.Media[0].Sid != m.Sid || msg.Media[0].Size != 7 ||
			msg.Media[0].ContentType != "image/png" || msg.Media[0].Filename == nil || *msg.Media[0].Filename != "cat.png" {
			t.Fatalf("message with media: %d %s", st, b)
		}
		if !strings.Contains(string(b), `"media":[{"sid":"`+m.Sid+`","size":7,"content_type":"image/png","filename":"cat.png"}]`) {
			t.Errorf("media array wire shape: %s", b)
		}
		resp, b := raw(t, "GET", srv.URL+m.URL, nil, nil, testserver.AccountSid, testserver.AuthToken)
		f := decode[mediaResp](t, b)
		if resp.StatusCode != 200 || f.ChannelSid == nil || *f.ChannelSid != ch || f.MessageSid == nil || *f.MessageSid != msg.Sid {
			t.Fatalf("attached media: %d %s", resp.StatusCode, b)
		}
		st, b = srv.Do(t, "GET", "/v1/Conversations/"+ch+"/Messages/"+msg.Sid, nil)
		if st != 200 || !strings.Contains(string(b), `"media":[{"sid":"`+m.Sid) {
			t.Fatalf("fetched message: %d %s", st, b)
		}
		st, b = srv.Do(t, "GET", "/v1/Conversations/"+ch+"/Messages", nil)
		if st != 200 || !strings.Contains(string(b), `"media":[{"sid":"`+m.Sid) {
			t.Fatalf("listed message: %d %s", st, b)
		}
		// A body can be emptied on a media message.
		st, b = srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages/"+msg.Sid, map[string]string{"Body": ""})
		if st != 200 {
			t.Fatalf("empty the body of a media message: %d %s", st, b)
		}

		other2 := func() string { // media of the second account
			resp, b := raw(t, "POST", srv.URL+"/v1/Services/"+is2+"/Media", []byte("x"), map[string]string{"Content-Type": "image/png"},
				testserver.Account2Sid, testserver.Auth2Token)
			if resp.StatusCode != 201 {
				t.Fatalf("upload as account 2: %d %s", resp.StatusCode, b)
			}
			return decode[mediaResp](t, b).Sid
		}()
		st, b = srv.Do(t, "POST", "/v1/Services", map[string]string{"FriendlyName": "second"})
		if st != 201 {
			t.Fatalf("service: %d %s", st, b)
		}
		isB := decode[struct {
			Sid string `json:"sid"`
		}](t, b).Sid
		inB := upload(t, srv, isB, []byte("x"), "image/png")
		fresh := upload(t, srv, is, []byte("x"), "image/png")
		for _, tc := range []struct {
			name string
			form map[string]string
			code int
		}{
			{"reused media", map[string]string{"MediaSid": m.Sid}, 50508},
			{"malformed", map[string]string{"MediaSid": "ME123"}, 50510},
			{"unknown", map[string]string{"MediaSid": "ME00000000000000000000000000000099"}, 50507},
			{"another account's", map[string]string{"MediaSid": other2}, 50507},
			{"another service's", map[string]string{"MediaSid": inB.Sid}, 50510},
			{"no body nor media", map[string]string{"Attributes": "{}"}, 50503},
		} {
			st, b := srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", tc.form)
			if st != 400 || decode[errResp](t, b).Code != tc.code {
				t.Errorf("%s: %d %s, want 400/%d", tc.name, st, b, tc.code)
			}
		}
		// Nothing was attached by the refused creates.
		resp, b = raw(t, "GET", srv.URL+"/v1/Services/"+isB+"/Media/"+inB.Sid, nil, nil, testserver.AccountSid, testserver.AuthToken)
		if resp.StatusCode != 200 || decode[mediaResp](t, b).MessageSid != nil {
			t.Fatalf("refused media: %d %s", resp.StatusCode, b)
		}

		// Deleting the message deletes its media.
		if st, b := srv.Do(t, "DELETE", "/v1/Conversations/"+ch+"/Messages/"+msg.Sid, nil); st != 204 {
			t.Fatalf("delete message: %d %s", st, b)
		}
		resp, b = raw(t, "GET", srv.URL+m.URL, nil, nil, testserver.AccountSid, testserver.AuthToken)
		wantErr(t, "media of a deleted message", resp, b, 404, 4041)
		if _, err := srv.Store.GetMediaChunk(context.Background(), m.Sid, 0); !errors.Is(err, conv.ErrNotFound) {
			t.Errorf("chunk of deleted media: %v", err)
		}

		// Unattached media is collected 5 minutes after its upload; attached media stays.
		st, b = srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"MediaSid": fresh.Sid, "Body": "with text"})
		if st != 201 {
			t.Fatalf("second media message: %d %s", st, b)
		}
		srv.Clock.Advance(conv.UnattachedMediaTTL + time.Second)
		n, err := srv.Service.CollectMedia(context.Background())
		if err != nil || n != 2 { // inB and the second account's
			t.Fatalf("CollectMedia: %d %v", n, err)
		}
		resp, _ = raw(t, "GET", srv.URL+fresh.URL, nil, nil, testserver.AccountSid, testserver.AuthToken)
		if resp.StatusCode != 200 {
			t.Fatalf("attached media collected: %d", resp.StatusCode)
		}

		// Reset removes the account's media.
		if st, b := srv.Do(t, "POST", "/parley/v1/Reset", nil); st != 200 && st != 204 {
			t.Fatalf("reset: %d %s", st, b)
		}
		if _, err := srv.Store.GetMedia(context.Background(), fresh.Sid); !errors.Is(err, conv.ErrNotFound) {
			t.Errorf("media after reset: %v", err)
		}
	})
}

// TestMediaLimits checks the size limit at the domain: a declared size over it is refused
// before one byte is read, a body that grows past it is cut off, and nothing stays.
func TestMediaLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		st := e.Open(t)
		ctx := context.Background()
		now := time.Now()
		svc := conv.NewService(st, conv.Options{Clock: func() time.Time { return now }, MaxMediaBytes: 1 << 20})
		if _, err := svc.EnsureAccount(ctx, testserver.AccountSid, testserver.AuthToken); err != nil {
			t.Fatal(err)
		}
		sc := conv.Scope{AccountSid: testserver.AccountSid}
		_, err := svc.UploadMedia(ctx, sc, conv.MediaUpload{ContentType: "video/mp4", Size: 100 << 20, Body: failReader{t}})
		if e, ok := conv.AsError(err); !ok || e.Code != 50512 || e.Kind != conv.KindTooLarge {
			t.Fatalf("declared oversize: %v", err)
		}
		_, err = svc.UploadMedia(ctx, sc, conv.MediaUpload{ContentType: "video/mp4", Size: -1, Body: io.LimitReader(zeros{}, 1<<20+1)})
		if e, ok := conv.AsError(err); !ok || e.Code != 50512 {
			t.Fatalf("streamed oversize: %v", err)
		}
		m, err := svc.UploadMedia(ctx, sc, conv.MediaUpload{ContentType: "video/mp4", Size: -1, Body: io.LimitReader(zeros{}, 1<<20)})
		if err != nil || m.Size != 1<<20 {
			t.Fatalf("upload at the limit: %+v %v", m, err)
		}
		// Only the one at the limit is stored: collecting everything unattached finds one.
		now = now.Add(2 * conv.StaleUploadTTL)
		n, err := svc.CollectMedia(ctx)
		if err != nil || n != 1 {
			t.Fatalf("stored media: %d %v", n, err)
		}
	})
}

type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("the body of an upload refused by its declared size was read")
	return 0, io.EOF
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestMediaUpload100MB uploads 100 MB over HTTP (SQLite) and checks the heap stays far below
// the upload's size, reading back its bytes the same way.
func TestMediaUpload100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB upload")
	}
	srv := testserver.New(t, storetest.SQLite)
	is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
	const size = 100 << 20
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // samples the heap while the upload runs
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/Services/"+is+"/Media", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	req.Header.Set("Content-Type", "video/mp4")
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	m := decode[mediaResp](t, b)
	req, _ = http.NewRequest("GET", srv.URL+m.Links["content"], nil)
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(done)
	<-sampled
	if err != nil || n != size {
		t.Fatalf("read back %d bytes: %v", n, err)
	}
	t.Logf("100 MB upload and download: peak HeapInuse %.1f MiB", float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak heap %d bytes: the upload was not streamed", peak)
	}
}

// signalCarrier records through the outbox and then tells the test.
type signalCarrier struct {
	next delivery.Carrier
	done chan string
}

func (c signalCarrier) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	r, err := c.next.Send(ctx, o)
	c.done <- o.Delivery.Sid
	return r, err
}

// TestMediaToSMS: an SMS recipient's outbox entry carries the media (a temporary URL fetched
// without credentials) and no text.
func TestMediaToSMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		done := make(chan string, 4)
		srv.Carrier.Set(signalCarrier{next: delivery.NewOutbox(srv.Service), done: done})
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		st, b := srv.Do(t, "POST", "/v1/Conversations", nil)
		if st != 201 {
			t.Fatalf("conversation: %d %s", st, b)
		}
		ch := decode[struct {
			Sid string `json:"sid"`
		}](t, b).Sid
		st, b = srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{
			"MessagingBinding.Address": "+15550001111", "MessagingBinding.ProxyAddress": "+15550002222"})
		if st != 201 {
			t.Fatalf("participant: %d %s", st, b)
		}
		m := upload(t, srv, is, []byte("GIF89a"), "image/gif")
		if st, b = srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"MediaSid": m.Sid, "Body": "look"}); st != 201 {
			t.Fatalf("message: %d %s", st, b)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second): // a safety net against a hang, not a timing assertion
			t.Fatal("the SMS delivery was never made")
		}
		st, b = srv.Do(t, "GET", "/parley/v1/Outbox?ConversationSid="+ch, nil)
		out := decode[struct {
			Messages []struct {
				Body     *string `json:"body"`
				MediaSid *string `json:"media_sid"`
				MediaURL *string `json:"media_url"`
			} `json:"messages"`
		}](t, b)
		if st != 200 || len(out.Messages) != 1 || out.Messages[0].Body != nil || out.Messages[0].MediaSid == nil ||
			*out.Messages[0].MediaSid != m.Sid || out.Messages[0].MediaURL == nil {
			t.Fatalf("outbox: %d %s", st, b)
		}
		resp, body := raw(t, "GET", *out.Messages[0].MediaURL, nil, nil, "", "")
		if resp.StatusCode != 200 || string(body) != "GIF89a" {
			t.Fatalf("media URL: %d %q", resp.StatusCode, body)
		}
	})
}
