package mockserver

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qwenmock/qwenmock/mockserver/ratelimit"
)

// API keys are never stored: rate-limit scopes, usage and the journal hold a label made of
// a hash of the key (keyLabel). The label identifies a key without revealing it, and keeps
// keys apart that a redaction would merge (sk-teamA-…1234 and sk-teamB-…1234).

// MaxAPIKeyBytes is the longest API key accepted; a longer one gets a 401 (real keys are 35
// bytes).
const MaxAPIKeyBytes = 256

// keyLabel shows a key as "sk-…1234#3fa9c2e10b7d": its "sk-" prefix if it has one, its last
// four characters when it is at least 20 bytes long (so that a short key shows none of its
// secret part), and the first 12 hex digits of its SHA-256, which tell keys apart.
func keyLabel(key string) string {
	sum := sha256.Sum256([]byte(key))
	var sb strings.Builder
	if strings.HasPrefix(key, "sk-") {
		sb.WriteString("sk-")
	}
	sb.WriteString("…")
	if len(key) >= 20 {
		sb.WriteString(key[len(key)-4:])
	}
	sb.WriteByte('#')
	sb.WriteString(hex.EncodeToString(sum[:6]))
	return sb.String()
}

// redactKey is the label of a key (keyLabel).
func redactKey(key string) string { return keyLabel(key) }

// keyNames are the names of one key that each request uses: its label (keyLabel), its
// rate-limit account and its redacted Authorization header. namesOf remembers them for the
// last keys seen, so that a request does not hash its key with SHA-256 several times.
type keyNames struct {
	h1, h2 uint64 // two independent seeded hashes of the key, which stand for it
	label  string // keyLabel(key)
	scope  string // "key:" + label, the account of a key that belongs to no named account
	bearer string // "Bearer " + label, the journal's Authorization header
}

// keyNameSlots is the size of the key-name table: a direct-mapped table of that many
// entries of about 150 bytes, so at most about 150 KiB. Keys are not kept, only the two
// 64-bit hashes that identify an entry (with random seeds, two keys share both with
// probability 2⁻¹²⁸, and a client cannot aim at it).
const keyNameSlots = 1024

var (
	keyNameTable [keyNameSlots]atomic.Pointer[keyNames]
	keyNameSeed1 = maphash.MakeSeed()
	keyNameSeed2 = maphash.MakeSeed()
)

// namesOf returns the names of key, from the table or made and remembered.
func namesOf(key string) *keyNames {
	h1, h2 := maphash.String(keyNameSeed1, key), maphash.String(keyNameSeed2, key)
	slot := &keyNameTable[h1%keyNameSlots]
	if n := slot.Load(); n != nil && n.h1 == h1 && n.h2 == h2 {
		return n
	}
	label := keyLabel(key)
	n := &keyNames{h1: h1, h2: h2, label: label, scope: "key:" + label, bearer: "Bearer " + label}
	slot.Store(n)
	return n
}

// MaxScopes bounds the rate-limit scopes (account × model) the server keeps. Past it the
// least recently used scope is dropped with its window and premature-retry record: its next
// request starts an empty window, as after a reset of that scope alone.
const MaxScopes = 10_000

// scopeLRU orders the scopes by last use.
type scopeLRU struct {
	max   int        // MaxScopes unless a test lowers it
	mu    sync.Mutex // guards order and byKey, and the writes of front
	order *list.List // of ratelimit.Key, most recent first
	byKey map[ratelimit.Key]*list.Element
	// front is the most recently used scope, readable without the lock: a use of the scope
	// already in front changes nothing, and costs no lock (the usual case of one client
	// sending many requests).
	front atomic.Pointer[ratelimit.Key]
}

// touch marks key as used now and returns the scope to drop, if the bound is passed.
func (l *scopeLRU) touch(key ratelimit.Key) (ratelimit.Key, bool) {
	if f := l.front.Load(); f != nil && *f == key {
		return ratelimit.Key{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKey == nil {
		l.order, l.byKey = list.New(), map[ratelimit.Key]*list.Element{}
	}
	if el, ok := l.byKey[key]; ok {
		l.order.MoveToFront(el)
		l.front.Store(&el.Value.(*lruEntry).key)
		return ratelimit.Key{}, false
	}
	e := &lruEntry{key: key}
	l.byKey[key] = l.order.PushFront(e)
	l.front.Store(&e.key)
	if l.order.Len() <= l.max {
		return ratelimit.Key{}, false
	}
	old := l.order.Remove(l.order.Back()).(*lruEntry).key
	delete(l.byKey, old)
	if old == key { // a bound of zero keeps nothing, not even the front
		l.front.Store(nil)
	}
	return old, true
}

// lruEntry is an element of scopeLRU.order; front points at the key of the first.
type lruEntry struct{ key ratelimit.Key }

func (l *scopeLRU) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.order, l.byKey = nil, nil
	l.front.Store(nil)
}

// useScope records a use of key and drops the least recently used scope past MaxScopes.
func (rl *rateLimiter) useScope(key ratelimit.Key) {
	old, drop := rl.lru.touch(key)
	if !drop {
		return
	}
	// A shared store keeps its scopes for every server and drops them as their windows
	// empty; only the in-process limiter is this server's to trim.
	if local, ok := rl.backend.(*ratelimit.Local); ok {
		local.Limiter().Forget(old)
	}
	rl.mu.Lock()
	delete(rl.notBefore, old)
	delete(rl.premature, old)
	rl.mu.Unlock()
}

// MaxUsageRecords bounds the (key, model) rows of the usage book. Past it, new keys are
// counted in one row per model with the key "(other keys)", so totals stay exact.
const MaxUsageRecords = 10_000

// otherKeys is the usage row of keys past MaxUsageRecords.
const otherKeys = "(other keys)"
