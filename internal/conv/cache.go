package conv

import (
	"context"
	"sync"
	"time"
)

// DefaultLookupCacheTTL is how long a Service trusts what it read about credentials and
// services (Options.LookupCacheTTL).
const DefaultLookupCacheTTL = time.Second

// lookupCache keeps, for a short time, what every request reads before its real work: the
// credentials Authenticate checks (the stored token or key secret, compared in constant time
// on every request) and the service ResolveService finds. Any write of accounts, API keys,
// the default service pointer or services through the Service's store empties it (see
// cacheStore), both when the write is made and when its transaction ends, and a generation
// number keeps a read that raced such a write from putting its stale result back. Changes
// made by another process (a second replica on one PostgreSQL database) are seen once the
// entries expire, after ttl.
type lookupCache struct {
	ttl time.Duration // <= 0: nothing is cached
	now func() time.Time

	mu       sync.RWMutex
	gen      uint64
	creds    map[string]credEntry
	services map[Scope]serviceEntry
}

type credEntry struct {
	secret  string
	account Account
	expires time.Time
}

type serviceEntry struct {
	svc     ChatService
	expires time.Time
}

// maxCacheEntries bounds each map; when full it is emptied (a burst of distinct
// credentials, valid ones only, cannot grow memory without bound).
const maxCacheEntries = 10000

func newLookupCache(ttl time.Duration, now func() time.Time) *lookupCache {
	return &lookupCache{ttl: ttl, now: now, creds: map[string]credEntry{}, services: map[Scope]serviceEntry{}}
}

// generation returns the number to pass to the put methods: take it before reading the store.
func (c *lookupCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// clear drops everything and makes puts of reads begun before now no-ops.
func (c *lookupCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.creds)
	clear(c.services)
}

// verify returns a copy of the account user's credentials belong to and true when a fresh
// entry for user exists and pass matches its secret (compared in constant time).
func (c *lookupCache) verify(user, pass string) (*Account, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.creds[user]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) || !constantTimeEqual(e.secret, pass) {
		return nil, false
	}
	a := e.account
	return &a, true
}

// putCred records that user's secret is secret, for account a, unless the cache was cleared
// since gen.
func (c *lookupCache) putCred(gen uint64, user, secret string, a *Account) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.creds) >= maxCacheEntries {
		clear(c.creds)
	}
	c.creds[user] = credEntry{secret: secret, account: *a, expires: c.now().Add(c.ttl)}
}

// service returns a copy of the cached service of sc.
func (c *lookupCache) service(sc Scope) (*ChatService, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.services[sc]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	svc := e.svc
	return &svc, true
}

// putService records the service sc resolves to, unless the cache was cleared since gen.
func (c *lookupCache) putService(gen uint64, sc Scope, svc *ChatService) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.services) >= maxCacheEntries {
		clear(c.services)
	}
	c.services[sc] = serviceEntry{svc: *svc, expires: c.now().Add(c.ttl)}
}

// cacheStore is the Service's view of its Store: writes that change what lookupCache holds
// empty the cache, whatever code makes them.
type cacheStore struct {
	Store
	c     *lookupCache
	dirty *bool // inside WithTx: set when the transaction made such a write
}

func (s *cacheStore) touched() {
	s.c.clear()
	if s.dirty != nil {
		*s.dirty = true
	}
}

// WithTx runs fn with a cacheStore over the transaction, and empties the cache again once the
// transaction is over when fn changed accounts, keys or services.
func (s *cacheStore) WithTx(ctx context.Context, fn func(tx Store) error) error {
	if s.dirty != nil { // nested: the outer WithTx clears at its end
		return s.Store.WithTx(ctx, func(tx Store) error {
			return fn(&cacheStore{Store: tx, c: s.c, dirty: s.dirty})
		})
	}
	dirty := false
	err := s.Store.WithTx(ctx, func(tx Store) error {
		return fn(&cacheStore{Store: tx, c: s.c, dirty: &dirty})
	})
	if dirty {
		s.c.clear()
	}
	return err
}

// CreateAccount passes through and empties the cache.
func (s *cacheStore) CreateAccount(ctx context.Context, a *Account) error {
	s.touched()
	return s.Store.CreateAccount(ctx, a)
}

// SetAccountDefaultService passes through and empties the cache.
func (s *cacheStore) SetAccountDefaultService(ctx context.Context, accountSid, serviceSid string) error {
	s.touched()
	return s.Store.SetAccountDefaultService(ctx, accountSid, serviceSid)
}

// UpdateAccountToken passes through and empties the cache.
func (s *cacheStore) UpdateAccountToken(ctx context.Context, accountSid, token string) error {
	s.touched()
	return s.Store.UpdateAccountToken(ctx, accountSid, token)
}

// PutAPIKey passes through and empties the cache.
func (s *cacheStore) PutAPIKey(ctx context.Context, k *APIKey) error {
	s.touched()
	return s.Store.PutAPIKey(ctx, k)
}

// DeleteService passes through and empties the cache.
func (s *cacheStore) DeleteService(ctx context.Context, accountSid, sid string) error {
	s.touched()
	return s.Store.DeleteService(ctx, accountSid, sid)
}
