package conv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Media Content Service (MCS): media uploaded for messages, stored in chunks, attached to one
// message and removed with it. See docs/compatibility.md "Media and push".

const (
	// DefaultMaxMediaBytes is Twilio's limit on one media file between chat participants
	// (150 MB, the conversations-limits page), taken here as 150 MiB.
	DefaultMaxMediaBytes = 150 << 20
	// MediaChunkSize is the size of the stored chunks of a media item's bytes.
	MediaChunkSize = 256 << 10
	// MediaURLTTL is how long a temporary content URL (links.content_direct_temporary) is valid.
	MediaURLTTL = 300 * time.Second
	// UnattachedMediaTTL is how long a media item not attached to a message is kept.
	UnattachedMediaTTL = 5 * time.Minute
	// StaleUploadTTL is how long an upload may stream before it counts as abandoned (a crash
	// mid-upload) and is collected.
	StaleUploadTTL = time.Hour
	// MaxMediaFilenameLen bounds the Filename of an upload (characters).
	MaxMediaFilenameLen = 1024
)

// Media categories.
const (
	MediaCategoryMedia   = "media"
	MediaCategoryBody    = "body"
	MediaCategoryHistory = "history"
)

// Media is one media item (ME) of a Conversation Service.
type Media struct {
	Seq        int64
	Sid        string
	AccountSid string
	ServiceSid string
	// ConversationSid and MessageSid are "" until a message attaches the media.
	ConversationSid string
	MessageSid      string
	ContentType     string
	Size            int64
	Filename        string // "" when none was given
	Author          string // the uploader's identity, "system" for REST (Basic) uploads
	Category        string
	// ExternalURL, for the media of an inbound MMS (POST /parley/v1/Inbound MediaUrl), is
	// where its content is: it has no stored bytes and its content URLs redirect there.
	ExternalURL string
	DateCreated time.Time
	DateUpdated time.Time
}

// MediaRef is a media item as a message lists it.
type MediaRef struct {
	Sid         string
	Size        int64
	ContentType string
	Filename    string // "" when none
}

// MediaStore persists media items and their bytes.
type MediaStore interface {
	// CreateMedia inserts an incomplete media item (an upload starting) and sets m.Seq.
	CreateMedia(ctx context.Context, m *Media) error
	// PutMediaChunk writes chunk n (from 0) of an incomplete media item.
	PutMediaChunk(ctx context.Context, mediaSid string, n int, data []byte) error
	// CompleteMedia marks an upload complete with its size, dated at. ErrNotFound.
	CompleteMedia(ctx context.Context, sid string, size int64, at time.Time) error
	// GetMedia returns a complete media item of any account. ErrNotFound.
	GetMedia(ctx context.Context, sid string) (*Media, error)
	// GetMediaChunk returns chunk n of a media item. ErrNotFound past the last one.
	GetMediaChunk(ctx context.Context, mediaSid string, n int) ([]byte, error)
	// AttachMedia links an unattached media item to a message. ErrNotFound: no such
	// unattached item.
	AttachMedia(ctx context.Context, sid, conversationSid, messageSid string, at time.Time) error
	// DeleteMedia deletes a media item with its chunks. ErrNotFound.
	DeleteMedia(ctx context.Context, sid string) error
	// DeleteStaleMedia deletes the unattached media items completed before completedBefore
	// and the incomplete uploads started before startedBefore, and returns how many.
	DeleteStaleMedia(ctx context.Context, completedBefore, startedBefore time.Time) (int64, error)
}

// MediaUpload is an upload: the raw bytes of one file and what describes them.
type MediaUpload struct {
	ContentType string
	Filename    string
	Category    string // "" is "media"
	// Author is the uploader: an access token's identity, "" for REST (stored as "system").
	Author string
	// Size is the declared length of Body (Content-Length), -1 when unknown.
	Size int64
	Body io.Reader
}

// MediaTooLarge is the error of an upload over the size limit: 413, 50512.
func (s *Service) MediaTooLarge() *Error {
	return Errorf(KindTooLarge, 50512, "Message media size is too large: the limit is %d bytes", s.maxMedia)
}

// MaxMediaBytes returns the size limit of one media item.
func (s *Service) MaxMediaBytes() int64 { return s.maxMedia }

// validMediaType reports whether ct is a MIME type (type/subtype, parameters allowed).
func validMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.Count(mt, "/") == 1 && !strings.HasPrefix(mt, "/") && !strings.HasSuffix(mt, "/")
}

// UploadMedia stores a media item in the service sc names, streaming its body into the store
// in MediaChunkSize chunks (one transaction each), so memory stays flat whatever the size. The
// item is acknowledged (complete) only once every byte is durable; a failed upload leaves
// nothing. Errors: 20404 (service), 400 50511 (missing or malformed content
// type), 400 20422 (category, filename), 413 50512 (over the size limit, refused before any
// byte is read when the declared size says so).
func (s *Service) UploadMedia(ctx context.Context, sc Scope, in MediaUpload) (*Media, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if in.ContentType == "" {
		return nil, invalid(50511, "Invalid message media content type: the upload has no Content-Type")
	}
	if !validMediaType(in.ContentType) {
		return nil, invalid(50511, "Invalid message media content type: %q is not a MIME type", in.ContentType)
	}
	cat := in.Category
	switch cat {
	case "":
		cat = MediaCategoryMedia
	case MediaCategoryMedia, MediaCategoryBody, MediaCategoryHistory:
	default:
		return nil, invalid(20422, "Invalid Parameter: Category must be media, body or history, not %q", cat)
	}
	if err := checkLen("Filename", in.Filename, MaxMediaFilenameLen, 20422); err != nil {
		return nil, err
	}
	if in.Size > s.maxMedia {
		return nil, s.MediaTooLarge()
	}
	author := in.Author
	if author == "" {
		author = DefaultAuthor
	}
	now := s.clock()
	m := &Media{Sid: s.sids.New(PrefixMedia), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, ContentType: in.ContentType,
		Filename: in.Filename, Author: author, Category: cat, DateCreated: now, DateUpdated: now}
	if err := s.store.WithTx(ctx, func(tx Store) error { return tx.CreateMedia(ctx, m) }); err != nil {
		return nil, err
	}
	size, err := s.streamChunks(ctx, m.Sid, in.Body)
	if err == nil {
		m.Size, m.DateUpdated = size, s.clock()
		err = s.store.WithTx(ctx, func(tx Store) error { return tx.CompleteMedia(ctx, m.Sid, size, m.DateUpdated) })
	}
	if err != nil {
		// Nothing of a failed upload stays. The cleanup runs even when ctx ended (the client
		// went away); DeleteStaleMedia removes what a crash leaves behind.
		_ = s.store.WithTx(context.WithoutCancel(ctx), func(tx Store) error { return tx.DeleteMedia(ctx, m.Sid) })
		return nil, err
	}
	return m, nil
}

// streamChunks copies body into the media item's chunks and returns its size. Error 50512 as
// soon as the body passes the limit.
func (s *Service) streamChunks(ctx context.Context, sid string, body io.Reader) (int64, error) {
	buf := make([]byte, MediaChunkSize)
	var size int64
	for n := 0; ; n++ {
		k, rerr := io.ReadFull(body, buf)
		if k > 0 {
			size += int64(k)
			if size > s.maxMedia {
				return 0, s.MediaTooLarge()
			}
			chunk := buf[:k]
			if err := s.store.WithTx(ctx, func(tx Store) error { return tx.PutMediaChunk(ctx, sid, n, chunk) }); err != nil {
				return 0, err
			}
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return size, nil
		case rerr != nil:
			return 0, rerr
		}
	}
}

// mediaNotFound is MCS's 404 for an unknown media SID.
func mediaNotFound() *Error { return Errorf(KindNotFound, 4041, "Media not found") }

// FetchMedia returns a media item of the service sc names. Errors: 400 4000 (malformed
// SID), 404 4041 (no such media in this service and account), 20404 (service).
func (s *Service) FetchMedia(ctx context.Context, sc Scope, sid string) (*Media, error) {
	if !IsSID(PrefixMedia, sid) {
		return nil, invalid(4000, "Invalid URI parameter: Sid")
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	m, err := s.store.GetMedia(ctx, sid)
	if errors.Is(err, ErrNotFound) || (err == nil && (m.AccountSid != svc.AccountSid || m.ServiceSid != svc.Sid)) {
		return nil, mediaNotFound()
	}
	return m, err
}

// MediaContent returns a reader of a media item's bytes, read from the store one chunk at a
// time. Close it when done.
func (s *Service) MediaContent(ctx context.Context, m *Media) io.ReadCloser {
	return &mediaReader{ctx: ctx, st: s.store, sid: m.Sid, left: m.Size}
}

type mediaReader struct {
	ctx  context.Context
	st   Store
	sid  string
	n    int
	left int64
	cur  []byte
}

func (r *mediaReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.left <= 0 {
			return 0, io.EOF
		}
		b, err := r.st.GetMediaChunk(r.ctx, r.sid, r.n)
		if errors.Is(err, ErrNotFound) {
			return 0, io.ErrUnexpectedEOF // deleted while being read
		} else if err != nil {
			return 0, err
		}
		r.n++
		r.cur = b
	}
	k := copy(p, r.cur)
	r.cur = r.cur[k:]
	r.left -= int64(k)
	return k, nil
}

func (r *mediaReader) Close() error { r.cur = nil; return nil }

// mediaSignature signs a temporary content URL of media sid valid until expires (Unix
// seconds) with the account's auth token, so every replica over one database checks it and
// rotating the token revokes the URLs.
func mediaSignature(authToken, sid string, expires int64) string {
	mac := hmac.New(sha256.New, []byte(authToken))
	mac.Write([]byte("parley-media\x00" + sid + "\x00" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignMediaURL returns the expiry (Unix seconds, MediaURLTTL from now) and signature of a
// temporary content URL of m.
func (s *Service) SignMediaURL(ctx context.Context, m *Media) (expires int64, signature string, err error) {
	a, err := s.store.GetAccount(ctx, m.AccountSid)
	if err != nil {
		return 0, "", mapStoreErr(err)
	}
	expires = s.now().Add(MediaURLTTL).Unix()
	return expires, mediaSignature(a.AuthToken, m.Sid, expires), nil
}

// OpenSignedMedia checks a temporary content URL (no credentials) and returns its media.
// Errors: 400 4000 (malformed SID), 403 20403 (bad signature or expired), 404 4041.
func (s *Service) OpenSignedMedia(ctx context.Context, serviceSid, sid, expires, signature string) (*Media, error) {
	if !IsSID(PrefixMedia, sid) {
		return nil, invalid(4000, "Invalid URI parameter: Sid")
	}
	m, err := s.store.GetMedia(ctx, sid)
	if errors.Is(err, ErrNotFound) || (err == nil && m.ServiceSid != serviceSid) {
		return nil, mediaNotFound()
	} else if err != nil {
		return nil, err
	}
	a, err := s.store.GetAccount(ctx, m.AccountSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	exp, perr := strconv.ParseInt(expires, 10, 64)
	if perr != nil || !hmac.Equal([]byte(signature), []byte(mediaSignature(a.AuthToken, sid, exp))) {
		return nil, Errorf(KindForbidden, 20403, "Forbidden: the temporary media URL's signature is not valid")
	}
	if s.now().Unix() > exp {
		return nil, Errorf(KindForbidden, 20403, "Forbidden: the temporary media URL expired; fetch the media again for a new one")
	}
	return m, nil
}

// CollectMedia deletes the media items never attached to a message within
// UnattachedMediaTTL of their upload (and uploads a crash left incomplete), as Twilio
// garbage-collects them. It returns how many it deleted.
func (s *Service) CollectMedia(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		now := s.now()
		n, err = tx.DeleteStaleMedia(ctx, now.Add(-UnattachedMediaTTL), now.Add(-StaleUploadTTL))
		return err
	})
	return n, err
}

// checkMessageMedia validates one media SID of a message create in the message's transaction
// and appends it to m.Media; linkMedia then attaches it once the message row exists. Errors: 50507
// (not found, or of another account), 50510 (another service), 50508 (already sent with
// another message).
func checkMessageMedia(ctx context.Context, tx Store, c *Conversation, m *Message, sid string) error {
	me, err := tx.GetMedia(ctx, sid)
	if errors.Is(err, ErrNotFound) || (err == nil && me.AccountSid != c.AccountSid) {
		return invalid(50507, "Media not found: %s", sid)
	} else if err != nil {
		return err
	}
	if me.ServiceSid != c.ServiceSid {
		return invalid(50510, "Invalid message media SID: %s was not uploaded under this conversation's service %s", sid, c.ServiceSid)
	}
	if me.MessageSid != "" {
		return invalid(50508, "Media already sent with another message: %s", sid)
	}
	for _, r := range m.Media {
		if r.Sid == sid {
			return invalid(50508, "Media already sent with another message: %s is given twice", sid)
		}
	}
	m.Media = append(m.Media, MediaRef{Sid: me.Sid, Size: me.Size, ContentType: me.ContentType, Filename: me.Filename})
	return nil
}

// linkMedia attaches m's media to m (after checkMessageMedia and CreateMessage).
func linkMedia(ctx context.Context, tx Store, m *Message, at time.Time) error {
	for _, r := range m.Media {
		if err := tx.AttachMedia(ctx, r.Sid, m.ConversationSid, m.Sid, at); err != nil {
			if errors.Is(err, ErrNotFound) {
				return invalid(50508, "Media already sent with another message: %s", r.Sid)
			}
			return err
		}
	}
	return nil
}

// ChannelMedia returns what an SMS or WhatsApp recipient gets of m: its first media item and
// no body when it has media (Twilio sends non-chat participants one media item and drops the
// text), else no media and the body.
func ChannelMedia(m *Message) (mediaSid string, body *string) {
	if len(m.Media) == 0 {
		return "", m.Body
	}
	return m.Media[0].Sid, nil
}

// TemporaryMediaURL returns a temporary content URL of media sid on base (scheme://host):
// signed, valid for MediaURLTTL, fetched without credentials. Errors: 404 4041 (gone).
func (s *Service) TemporaryMediaURL(ctx context.Context, base, sid string) (string, error) {
	m, err := s.store.GetMedia(ctx, sid)
	if errors.Is(err, ErrNotFound) {
		return "", mediaNotFound()
	} else if err != nil {
		return "", err
	}
	return s.temporaryURL(ctx, base, m)
}

func (s *Service) temporaryURL(ctx context.Context, base string, m *Media) (string, error) {
	exp, sig, err := s.SignMediaURL(ctx, m)
	if err != nil {
		return "", err
	}
	return base + MediaPath(m.ServiceSid, m.Sid) + "/Content?Expires=" + strconv.FormatInt(exp, 10) + "&Signature=" + sig, nil
}

// MediaPath is the MCS path of a media item.
func MediaPath(serviceSid, sid string) string { return "/v1/Services/" + serviceSid + "/Media/" + sid }

// externalMedia records the media of an inbound message in conversation c: its content stays
// at rawURL (Parley has no internet access to fetch it), so it has no bytes and size 0.
// Errors: 20422 (not an absolute http(s) URL).
func (s *Service) externalMedia(ctx context.Context, c *Conversation, author, rawURL, contentType string) (*Media, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid(20422, "Invalid Parameter: MediaUrl %q is not an absolute http(s) URL", rawURL)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	} else if !validMediaType(contentType) {
		return nil, invalid(50511, "Invalid message media content type: %q is not a MIME type", contentType)
	}
	now := s.clock()
	m := &Media{Sid: s.sids.New(PrefixMedia), AccountSid: c.AccountSid, ServiceSid: c.ServiceSid, ContentType: contentType,
		Filename: path.Base(u.Path), Author: author, Category: MediaCategoryMedia, ExternalURL: rawURL, DateCreated: now, DateUpdated: now}
	if m.Filename == "/" || m.Filename == "." {
		m.Filename = ""
	}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateMedia(ctx, m); err != nil {
			return err
		}
		return tx.CompleteMedia(ctx, m.Sid, 0, now)
	})
	return m, err
}
