package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/parley-dev/parley/internal/conv"
)

// Paging limits.
const (
	// DefaultPageSize is a list's page size when the request gives none (or the list's
	// maximum, when smaller).
	DefaultPageSize = 50
	// MaxPageSize is the largest PageSize of a list Twilio's spec gives no maximum for
	// (Parley's own lists under /parley/v1); see listPageSizeMax for the spec's lists.
	MaxPageSize = 1000
	// MaxPageOffset bounds Page × PageSize, the rows a Page skips: far beyond any list
	// offset paging can walk, small enough that neither the offset, the next page's number
	// nor the engines' OFFSET can overflow. A Page past it is a 400 (20422) on every list.
	MaxPageOffset = 1 << 31
)

// pageReq is a list request's paging: PageSize, Page and the decoded PageToken.
type pageReq struct {
	size   int
	page   int
	token  string
	after  int64
	before int64
}

// listPageSizeMax is the largest PageSize of the list served on route pattern (a mux
// pattern without its method, on either URL form): the PageSize maximum Twilio's spec gives
// that list operation, or MaxPageSize for a list the spec does not have. It is the one
// table of list maxima; route gives each handler its pattern's (reqCtx.pageMax), and
// TestListPageSizeMaxima checks every list of the spec against it.
func listPageSizeMax(pattern string) int {
	t, ok := strings.CutPrefix(pattern, "/v1/Services/{ChatServiceSid}")
	if !ok {
		t = strings.TrimPrefix(pattern, "/v1")
	}
	switch t {
	case "/Conversations/{ConversationSid}/Webhooks":
		return 5
	case "/Users", "/Users/{UserSid}/Conversations", "/ParticipantConversations", "/Roles",
		"/Configuration/Addresses", "/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts":
		return 50
	case "/Services", "/Conversations", "/Conversations/{ConversationSid}/Messages",
		"/Conversations/{ConversationSid}/Participants", "/Credentials", "/Bindings":
		return 100
	}
	return MaxPageSize
}

// parsePaging reads PageSize, Page (>= 0) and PageToken ("PA<seq>" for the page after a
// row, "PB<seq>" for the page before one) of a list whose largest page is maxSize
// (listPageSizeMax). PageSize defaults to DefaultPageSize, or maxSize when smaller; a
// larger PageSize than maxSize is read as maxSize (the SDKs send a list's limit as
// PageSize and follow next_page_url, whose PageSize says the size used).
// Errors: 20422 for a bad PageSize or Page, 21481 for a bad PageToken.
func parsePaging(q url.Values, maxSize int) (pageReq, error) {
	p := pageReq{size: min(DefaultPageSize, maxSize)}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: PageSize must be a positive integer, at most %d on this list (a larger one is read as %d), not %q", maxSize, maxSize, v)
		}
		p.size = min(n, maxSize)
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: Page must be a non-negative integer, not %q", v)
		}
		p.page = n
	}
	if p.page > MaxPageOffset/p.size {
		return p, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: Page %d with PageSize %d skips more than %d rows; follow the next_page_url the API returns", p.page, p.size, MaxPageOffset)
	}
	if v := q.Get("PageToken"); v != "" {
		after, before, ok := DecodePageToken(v)
		if !ok {
			return p, conv.Errorf(conv.KindInvalid, 21481, "Invalid PageToken %q: follow the next_page_url and previous_page_url the API returns", v)
		}
		p.token, p.after, p.before = v, after, before
	}
	return p, nil
}

// DecodePageToken decodes "PA<seq>" (rows after seq) or "PB<seq>" (rows before seq), seq a
// positive decimal integer. It returns false for anything else.
func DecodePageToken(t string) (after, before int64, ok bool) {
	if len(t) < 3 || t[0] != 'P' || (t[1] != 'A' && t[1] != 'B') {
		return 0, 0, false
	}
	digits := t[2:]
	if digits[0] < '1' || digits[0] > '9' || len(digits) > 18 {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	if t[1] == 'A' {
		return n, 0, true
	}
	return 0, n, true
}

// query returns the store query: one row more than the page, to learn whether another follows.
func (p pageReq) query() conv.PageQuery {
	q := conv.PageQuery{Size: p.size + 1, AfterSeq: p.after, BeforeSeq: p.before}
	if p.after == 0 && p.before == 0 {
		q.Offset = p.page * p.size
	}
	return q
}

type metaJSON struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

// pageOf trims the extra row off items and builds the meta block. listURL is the absolute
// list URL without a query; filters are the non-paging query parameters, in order.
func pageOf[T any](p pageReq, items []T, seq func(T) int64, listURL string, filters [][2]string, key string) ([]T, metaJSON) {
	hasNext, hasPrev := false, p.page > 0 || p.after > 0
	if p.before > 0 {
		if len(items) > p.size {
			items = items[1:]
			hasPrev = true
		} else {
			hasPrev = false
		}
		hasNext = len(items) > 0
	} else if len(items) > p.size {
		items = items[:p.size]
		hasNext = true
	}
	if len(items) == 0 && p.before == 0 {
		hasPrev = hasPrev && p.page > 0
	}
	build := func(page int, token string) string {
		var b strings.Builder
		b.WriteString(listURL)
		b.WriteByte('?')
		for _, f := range filters {
			b.WriteString(url.QueryEscape(f[0]))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(f[1]))
			b.WriteByte('&')
		}
		b.WriteString("PageSize=")
		b.WriteString(strconv.Itoa(p.size))
		b.WriteString("&Page=")
		b.WriteString(strconv.Itoa(page))
		if token != "" {
			b.WriteString("&PageToken=")
			b.WriteString(url.QueryEscape(token))
		}
		return b.String()
	}
	m := metaJSON{Page: p.page, PageSize: p.size, FirstPageURL: build(0, ""), URL: build(p.page, p.token), Key: key}
	if hasNext && len(items) > 0 {
		u := build(p.page+1, "PA"+strconv.FormatInt(seq(items[len(items)-1]), 10))
		m.NextPageURL = &u
	}
	if hasPrev {
		var u string
		if len(items) > 0 {
			u = build(max(p.page-1, 0), "PB"+strconv.FormatInt(seq(items[0]), 10))
		} else {
			u = build(max(p.page-1, 0), "")
		}
		m.PreviousPageURL = &u
	}
	return items, m
}

// listBody is a list response: the items under key, and meta.
func listBody[T any](key string, items []T, m metaJSON) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{key: items, "meta": m}
}

// writeList writes one page of items as a Twilio list response: the extra row trimmed, each
// item converted by toWire under key, and the meta block (see pageOf). The body is the bytes
// encoding/json writes for listBody; when W implements jsonAppender it is built without
// reflection (see appendListBodyOf). It returns nil.
func writeList[T, W any](w http.ResponseWriter, p pageReq, items []T, seq func(T) int64, listURL string, filters [][2]string, key string, toWire func(T) W) error {
	return writeListBuf(w, nil, p, items, seq, listURL, filters, key, toWire)
}

// maxPooledPage is the largest body buffer writeListBuf hands back to its pool.
const maxPooledPage = 256 << 10

// writeListBuf is writeList building the body in a buffer from bufs (a pool of *[]byte;
// nil for a new buffer), handed back once the body is written (a ResponseWriter's Write
// keeps no reference to its argument).
func writeListBuf[T, W any](w http.ResponseWriter, bufs *sync.Pool, p pageReq, items []T, seq func(T) int64, listURL string, filters [][2]string, key string, toWire func(T) W) error {
	items, meta := pageOf(p, items, seq, listURL, filters, key)
	if key == "meta" || !listAppendable[W]() {
		out := make([]W, len(items))
		for i, x := range items {
			out[i] = toWire(x)
		}
		writeJSON(w, http.StatusOK, listBody(key, out, meta))
		return nil
	}
	var bp *[]byte
	if bufs != nil {
		bp, _ = bufs.Get().(*[]byte)
	}
	if bp == nil {
		bp = new([]byte)
	}
	b := appendListBodyOf((*bp)[:0], key, items, toWire, &meta)
	writeJSONBytes(w, http.StatusOK, b)
	if bufs != nil && cap(b) <= maxPooledPage {
		*bp = b[:0]
		bufs.Put(bp)
	}
	return nil
}
