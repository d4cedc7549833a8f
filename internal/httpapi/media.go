package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/metrics/route"
)

// The Media Content Service (MCS), served on Parley's own host under Twilio's MCS paths:
//
//	POST /v1/Services/{IS}/Media             upload (raw body with its Content-Type, or multipart)
//	GET  /v1/Services/{IS}/Media/{ME}         the media resource
//	GET  /v1/Services/{IS}/Media/{ME}/Content its bytes (credentials, or a signed temporary URL)
//	POST /v1/Services/{IS}/MediaSet           batch fetch ({"command":"get","list":[...]})
//	OPTIONS on each                           CORS preflight
//
// These routes take HTTP Basic credentials (account or API key) or a client SDK access token
// (X-Twilio-Token), answer browsers with CORS headers, and have their own body limit (the
// media size limit instead of MaxBodyBytes).

// TokenVerifier authenticates client SDK access tokens (accesstoken.Verifier).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*accesstoken.Claims, error)
}

// multipartSlack is what a multipart upload may carry beyond the media limit (boundaries,
// part headers).
const multipartSlack = 64 << 10

// mediaPath reports whether p is an MCS path: /v1/Services/{IS}/Media[/...] or .../MediaSet.
func IsMediaPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/v1/Services/")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, "/")
	return ok && (rest == "Media" || rest == "MediaSet" || strings.HasPrefix(rest, "Media/"))
}

// mediaBodyLimit is the body limit of an MCS request, 0 when p is not one.
func (a *API) mediaBodyLimit(r *http.Request) int64 {
	if r.Method != http.MethodPost || !IsMediaPath(r.URL.Path) || strings.HasSuffix(r.URL.Path, "/MediaSet") {
		return 0
	}
	return a.svc.MaxMediaBytes() + multipartSlack
}

func (a *API) mediaRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			route.Set(r.Context(), pattern)
			if err := fn(w, r); err != nil {
				a.writeError(w, r, err)
			}
		})
	}
	h("POST /v1/Services/{IS}/Media", a.uploadMedia)
	h("GET /v1/Services/{IS}/Media/{Sid}", a.fetchMedia)
	h("GET /v1/Services/{IS}/Media/{Sid}/Content", a.mediaContent)
	h("POST /v1/Services/{IS}/MediaSet", a.mediaSet)
	return mux
}

// serveMedia serves an MCS request (dispatch sends mediaPath requests here).
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Twilio-Token, X-Twilio-Product-Id")
	hd.Set("Access-Control-Expose-Headers", "Content-Type, Content-Length")
	hd.Set("Access-Control-Max-Age", "600")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent) // preflight: no credentials
		return
	}
	if err := checkRequestText(r); err != nil { // door.go
		a.writeError(w, r, err)
		return
	}
	if p := r.URL.Path; p != path.Clean(p) {
		a.writeError(w, r, conv.NotFound())
		return
	}
	if _, pattern := a.mediaMux.Handler(r); pattern == "" {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		a.writeError(w, r, conv.Errorf(conv.KindMethodNotAllowed, 20004, "Method not allowed: %s is not supported on %s", r.Method, resourcePath(r)))
		return
	}
	a.mediaMux.ServeHTTP(w, r)
}

// mediaCaller authenticates an MCS request for service is: an access token (X-Twilio-Token)
// scoped to that service, or Basic credentials. It returns the scope and the uploader's
// identity ("" for Basic).
func (a *API) mediaCaller(r *http.Request, is string) (conv.Scope, string, error) {
	if tok := r.Header.Get("X-Twilio-Token"); tok != "" {
		forbidden := conv.Errorf(conv.KindForbidden, accesstoken.CodeInvalid, "Scoped account service forbids authentication")
		if a.opts.Tokens == nil {
			return conv.Scope{}, "", forbidden
		}
		c, err := a.opts.Tokens.Verify(r.Context(), tok)
		var te *accesstoken.Error
		switch {
		case errors.As(err, &te):
			return conv.Scope{}, "", conv.Errorf(conv.KindForbidden, te.Code, "%s", te.Message)
		case err != nil:
			return conv.Scope{}, "", err
		case c.Chat.ServiceSid != is:
			return conv.Scope{}, "", forbidden
		}
		return conv.Scope{AccountSid: c.AccountSid, ServiceSid: is}, c.Identity, nil
	}
	acct, err := a.authenticate(r)
	if err != nil {
		return conv.Scope{}, "", err
	}
	return conv.Scope{AccountSid: acct.Sid, ServiceSid: is}, "", nil
}

// mediaJSON is MCS's media resource.
type mediaJSON struct {
	Sid                 string            `json:"sid"`
	AccountSid          string            `json:"account_sid"`
	ServiceSid          string            `json:"service_sid"`
	DateCreated         twDate            `json:"date_created"`
	DateUpdated         twDate            `json:"date_updated"`
	DateUploadUpdated   twDate            `json:"date_upload_updated"`
	ChannelSid          *string           `json:"channel_sid"`
	MessageSid          *string           `json:"message_sid"`
	Size                int64             `json:"size"`
	ContentType         string            `json:"content_type"`
	Filename            *string           `json:"filename"`
	Author              string            `json:"author"`
	Category            string            `json:"category"`
	IsMultipartUpstream bool              `json:"is_multipart_upstream"`
	URL                 string            `json:"url"`
	Links               map[string]string `json:"links"`
}

// mediaResource shapes m; withTemporary adds a fresh links.content_direct_temporary (fetch
// and MediaSet; Twilio's create reply has only links.content).
func (a *API) mediaResource(r *http.Request, m *conv.Media, withTemporary bool) (mediaJSON, error) {
	u := conv.MediaPath(m.ServiceSid, m.Sid)
	out := mediaJSON{Sid: m.Sid, AccountSid: m.AccountSid, ServiceSid: m.ServiceSid, DateCreated: twDate(m.DateCreated),
		DateUpdated: twDate(m.DateUpdated), DateUploadUpdated: twDate(m.DateCreated), ChannelSid: nullable(m.ConversationSid),
		MessageSid: nullable(m.MessageSid), Size: m.Size, ContentType: m.ContentType, Filename: nullable(m.Filename),
		Author: m.Author, Category: m.Category, URL: u, Links: map[string]string{"content": u + "/Content"}}
	if withTemporary {
		tu, err := a.svc.TemporaryMediaURL(r.Context(), a.baseURL(r), m.Sid)
		if err != nil {
			return out, err
		}
		out.Links["content_direct_temporary"] = tu
	}
	return out, nil
}

func (a *API) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	is := r.PathValue("IS")
	sc, identity, err := a.mediaCaller(r, is)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	in := conv.MediaUpload{ContentType: r.Header.Get("Content-Type"), Filename: q.Get("Filename"), Category: q.Get("Category"),
		Author: identity, Size: r.ContentLength, Body: r.Body}
	if mt, _, err := mime.ParseMediaType(in.ContentType); err == nil && mt == "multipart/form-data" {
		// The first file part is the media (Twilio's samples name it "file", others "Media").
		if r.ContentLength > a.svc.MaxMediaBytes()+multipartSlack {
			return a.svc.MediaTooLarge()
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return conv.Invalid(20422, "Invalid Parameter: malformed multipart body: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				if tooLarge(err) {
					return a.svc.MediaTooLarge()
				}
				return conv.Invalid(20422, "Invalid Parameter: the multipart body has no file part")
			}
			if part.FileName() == "" {
				continue
			}
			in.ContentType, in.Size, in.Body = part.Header.Get("Content-Type"), -1, part
			if in.ContentType == "" {
				in.ContentType = "application/octet-stream"
			}
			if in.Filename == "" {
				in.Filename = part.FileName()
			}
			break
		}
	}
	for what, v := range map[string]string{"Filename": in.Filename, "Content-Type": in.ContentType} {
		if why := badText(v); why != "" {
			return textError(what, why)
		}
	}
	in.Body = limitErr{r: in.Body, tooLarge: a.svc.MediaTooLarge()}
	m, err := a.svc.UploadMedia(r.Context(), sc, in)
	if err != nil {
		return err
	}
	out, err := a.mediaResource(r, m, false)
	if err != nil {
		return err
	}
	writeJSONReflect(w, http.StatusCreated, out)
	return nil
}

// limitErr turns the front door's body limit error into 50512.
type limitErr struct {
	r        io.Reader
	tooLarge error
}

func (l limitErr) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if tooLarge(err) {
		err = l.tooLarge
	}
	return n, err
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func (a *API) fetchMedia(w http.ResponseWriter, r *http.Request) error {
	sc, _, err := a.mediaCaller(r, r.PathValue("IS"))
	if err != nil {
		return err
	}
	m, err := a.svc.FetchMedia(r.Context(), sc, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	out, err := a.mediaResource(r, m, true)
	if err != nil {
		return err
	}
	writeJSONReflect(w, http.StatusOK, out)
	return nil
}

// mediaContent serves a media item's bytes: with the signature of a temporary URL (no
// credentials, until it expires), else with credentials.
func (a *API) mediaContent(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var m *conv.Media
	var err error
	if q.Has("Signature") || q.Has("Expires") {
		m, err = a.svc.OpenSignedMedia(r.Context(), r.PathValue("IS"), r.PathValue("Sid"), q.Get("Expires"), q.Get("Signature"))
	} else {
		var sc conv.Scope
		if sc, _, err = a.mediaCaller(r, r.PathValue("IS")); err == nil {
			m, err = a.svc.FetchMedia(r.Context(), sc, r.PathValue("Sid"))
		}
	}
	if err != nil {
		return err
	}
	if m.ExternalURL != "" { // an inbound MMS's media: its content is where the carrier left it
		http.Redirect(w, r, m.ExternalURL, http.StatusFound)
		return nil
	}
	body := a.svc.MediaContent(r.Context(), m)
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	h.Set("Cache-Control", "private, max-age=300")
	if m.Filename != "" {
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": m.Filename}))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, body) // a failure mid-body can only cut the response short
	return nil
}

// mediaSet answers the SDK's batch fetch: one {code, media_record} per requested SID.
func (a *API) mediaSet(w http.ResponseWriter, r *http.Request) error {
	sc, _, err := a.mediaCaller(r, r.PathValue("IS"))
	if err != nil {
		return err
	}
	var in struct {
		Command string `json:"command"`
		List    []struct {
			MediaSid string `json:"media_sid"`
		} `json:"list"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Command != "get" {
		return conv.Invalid(20422, `Invalid Parameter: the body must be {"command":"get","list":[{"media_sid":"ME…"}]}`)
	}
	type item struct {
		Code        int        `json:"code"`
		MediaRecord *mediaJSON `json:"media_record,omitempty"`
		Message     string     `json:"message,omitempty"`
	}
	out := make([]item, 0, len(in.List))
	for _, l := range in.List {
		m, err := a.svc.FetchMedia(r.Context(), sc, l.MediaSid)
		if e, ok := conv.AsError(err); ok {
			out = append(out, item{Code: kindStatus[e.Kind], Message: e.Message})
			continue
		} else if err != nil {
			return err
		}
		rec, err := a.mediaResource(r, m, true)
		if err != nil {
			return err
		}
		out = append(out, item{Code: http.StatusOK, MediaRecord: &rec})
	}
	writeJSONReflect(w, http.StatusOK, out)
	return nil
}
