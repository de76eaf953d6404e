// Package ratelimit enforces DashScope's rate limits: requests per minute (RPM) and tokens
// per minute (TPM, input plus output tokens) for each account and model, with the optional
// per-second and burst rules of the real service.
//
// # Scopes, limits and time
//
// A scope is one Key (account, model). Each scope owns a window of admitted entries. The
// limits are passed on every call (Limits; zero or negative means unlimited) because they
// can change at run time; the window does not depend on them. The time is passed on every
// call too: the package never reads the system clock, so tests move time forward without
// sleeping.
//
// Time is quantised to the millisecond: all times within the same millisecond (as given by
// time.Time.UnixMilli, which rounds down) are one instant. A Limiter's time never goes
// backwards: a call whose time is earlier than the latest time the Limiter has seen (in
// any call, for any scope, since the last Reset) is treated as happening at that latest
// time. This keeps the windows exact when concurrent callers read one clock and reach the
// Limiter out of order.
//
// # The rule
//
// A request at instant t with an estimate of e tokens is admitted if and only if the
// entries admitted in the window (t−60s, t] hold at most RPM−1 requests and at most TPM−e
// tokens. An admitted request is recorded as an entry (t, 1 request, e tokens); Settle later
// replaces e by the tokens actually used. A request with e > TPM is never admitted.
//
// # Why an exact sliding window
//
// The limiter has two properties, both tested:
//
//   - (a) safety: in every 60-second span (a−60s, a], for any real a, the requests admitted
//     number at most RPM and their tokens total at most TPM (counting each request at its
//     instant, and each at its estimate or a smaller settled value; a settlement larger
//     than the estimate can push a window over the TPM, and later requests then wait
//     until it leaves);
//   - (b) liveness at the limit: a client sending one request every 60s/RPM, each with the
//     same estimate e where RPM·e ≤ TPM, is never refused.
//
// Proof of (a): let S be the requests with instants in (a−60s, a] and r the one admitted
// last. Instants never decrease, so r's instant t is the latest of S and every other
// member of S lies in (a−60s, t] ⊆ (t−60s, t]: r's admission counted them all, so |S| ≤ RPM
// and the tokens of S are at most TPM. Proof of (b): the k-th request comes at
// t₀+k·P with P = 60s/RPM; the request RPM places earlier is at exactly t−60s, outside the
// half-open window, so the window holds RPM−1 requests and (RPM−1)·e tokens. Quantising
// keeps both: instants 60 s apart in real time are 60,000 ms apart once rounded down. In real
// time (before quantising), any span of at most 59.999 s is covered by one window check.
//
// Simpler schemes break one of the two properties. Fixed minute buckets admit RPM requests
// at 0:59.999 and RPM more at 1:00.000, so 2·RPM within one millisecond, breaking (a). A
// token bucket refilled at RPM per minute with a capacity C > 1 admits C requests at once
// and then RPM−1 more before the same minute ends, breaking (a); with C = 1 (GCRA with no
// tolerance) it still fails for tokens: charging a request's e·60s/TPM gap after it admits
// a 1-token request and then a TPM-token one a moment later, and charging the gap before
// it admits a TPM-token request and then a small one; either way TPM+1 tokens in one
// minute. A bucket keeps a single number, so it cannot know when each admitted token
// leaves the minute; the window keeps the entries, and so knows.
//
// # Algorithm and bounds
//
// Each scope holds a ring buffer of entries in time order, one entry per non-empty
// millisecond: requests admitted in the same millisecond merge into one entry (requests
// and tokens summed). The scope keeps running sums of requests and tokens over the whole
// ring (the minute window) and over its tail within (t−1s, t] (the second window, for the
// per-second and burst rules). On every call the entries that have left each window are
// dropped from the front of that window and subtracted from its sums, so each entry is
// appended once and removed once.
//
//   - Admit: O(1) amortised when admitted (hashing, one map look-up, expiry, append; the
//     ring doubles when full and halves when a quarter full). A refusal also computes
//     RetryAfter by stepping through the future instants at which entries leave the windows
//     until the request would pass: O(k), where k is the number of entries that must leave
//     first plus, when the per-second or burst rule is on, the entries of the last second.
//   - Settle: O(log n) (binary search of the ticket's millisecond in the ring).
//   - State: O(1) amortised (plus any newest entries settled to zero tokens, which it
//     steps over to find the reset time of tokens). Snapshot: O(s log s) for s scopes.
//   - Memory per scope: the scope header plus a ring of at most max(4, 4n) entries of 24
//     bytes, where n ≤ min(requests admitted in the window, 60,000) is the number of
//     non-empty milliseconds in the last minute; the ring never exceeds 65,536 entries.
//     A scope whose window empties releases its ring when next touched, and empty scopes
//     are dropped: by a sweep of the shard once it has taken half as many admissions as
//     it holds scopes, plus 64 (so the sweep is O(1) amortised, even when every
//     admission creates a scope), and by State and Snapshot; a shard's map is rebuilt
//     once it holds under a quarter of its peak, since a Go map keeps its table after
//     deletions. A dropped scope then costs nothing; an idle scope not yet dropped keeps
//     its header, map slot and ring. Each admission also allocates a 24-byte settlement
//     record, held only by its Ticket.
//
// # Optional rules
//
// With Limiter.PerSecond set, a request must also fit the second window (t−1s, t]: at most
// ⌈RPM/60⌉ requests and ⌈TPM/60⌉ tokens, except that a request alone in its second (no
// entry in (t−1s, t]) always passes the token check, so a request larger than ⌈TPM/60⌉ can
// still pass. The rule holds in every 1-second span by the argument of (a). A client at
// the limit rate never exceeds ⌈RPM/60⌉ requests in a second, so it is refused by this
// rule only for tokens, and only if ⌈RPM/60⌉·e > ⌈TPM/60⌉ while its requests are less
// than a second apart (RPM 90 with e = 10 and TPM 900 puts 20 tokens in some seconds,
// over the 15 allowed). With Limiter.Burst set, the BurstRule described on that type refuses sudden
// growth with Kind Burst.
//
// # Backends
//
// A Backend holds the windows and the clock they are measured by. Local is a Limiter in
// this process with a base clock and an offset; Redis keeps both in a Redis server, so
// that every process pointed at it shares one quota per scope, the same clock (Redis TIME
// plus a shared offset) and the same resets. Redis applies the rules above in one Lua
// script per admission and decides exactly as the Limiter does; the differences are the
// clock's source, a per-scope (not Limiter-wide) "time never goes backwards" guard, and
// errors: while Redis cannot be reached every call fails with ErrUnavailable, or, with
// FailOpen, admissions pass unchecked. docs/redis.md has the data layout, memory per scope
// and fault behaviour.
//
// # Concurrency
//
// A Limiter is safe for concurrent use. Scopes are spread over 64 shards by a hash of the
// Key; each shard's mutex guards the shard's map, its sweep counter and every scope in the
// map, including the per-ticket settlement records of those scopes. A call locks exactly
// one shard, except Snapshot, Reset and Scopes, which lock the shards one after the other.
// The latest time seen is an atomic word, read and raised while holding a shard lock. The
// exported option fields (PerSecond, Burst) are read without a lock: set them before the
// Limiter is shared.
package ratelimit
