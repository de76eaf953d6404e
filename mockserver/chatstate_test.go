package mockserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// pooledCase is one request of the pooling tests, and what it must get.
type pooledCase struct {
	path, body string
	status     int
	answer     string // the whole body
	header     http.Header
}

func pooledCases() []*pooledCase {
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)
	many := `{"model":"qwen-plus","messages":[`
	for i := range 80 { // more messages than a pooled state keeps
		if i > 0 {
			many += ","
		}
		many += fmt.Sprintf(`{"role":"user","content":"message %d"},{"role":"assistant","content":"answer %d"}`, i, i)
	}
	many += `,{"role":"user","content":"last"}]}`
	bodies := []struct{ path, body string }{
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"Hello A"}]}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen-plus","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"` + long + `"},{"role":"assistant","content":"Sure."},{"role":"user","content":"And B? \u00e9 \"q\""}]}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"robot","content":"x"}]}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","temperature":0.5,"n":2,"messages":[{"role":"user","content":"two choices"}]}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"stream me"}],"stream":true,"stream_options":{"include_usage":true}}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"你是谁？"}]}`},
		{"/compatible-mode/v1/chat/completions", many},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"think"}],"enable_thinking":true,"max_tokens":7}`},
		{"/compatible-mode/v1/chat/completions", `{"model":"qwen3-max","messages":[{"role":"user","content":"think more"}],"enable_thinking":true}`},
		{"/api/v1/services/aigc/text-generation/generation", `{"model":"qwen3-max","input":{"messages":[{"role":"user","content":"native"}]}}`},
		{"/apps/anthropic/v1/messages", `{"model":"qwen3-max","max_tokens":50,"messages":[{"role":"user","content":"anthropic"}]}`},
	}
	cases := make([]*pooledCase, len(bodies))
	for i, b := range bodies {
		cases[i] = &pooledCase{path: b.path, body: b.body}
	}
	return cases
}

func (pc *pooledCase) send(srv http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, pc.path, strings.NewReader(pc.body))
	req.Header.Set("Authorization", "Bearer sk-pool-test-0000001234")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func newPooledTestServer(t *testing.T) *Server {
	t.Helper()
	srv, err := New(WithClock(FixedClock(testTime)), WithRequestIDs(func() string { return firstID }),
		WithLimits(RateLimits{RPM: Unlimited, TPM: Unlimited}), WithJournal(1000, 1<<20),
		WithImplicitCache(false)) // a repeated prompt would otherwise report cached tokens
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestPooledStatesKeepRequestsApart sends requests of every kind (short and long, many
// messages, errors, several choices, a stream, a fixture, thinking, other shapes) through the
// pooled request states, interleaved and concurrently, and checks that each gets exactly the
// answer it gets from fresh states, and that the journal keeps exactly each one's body and
// answer after the states were reused.
func TestPooledStatesKeepRequestsApart(t *testing.T) {
	cases := pooledCases()
	unpooledStates.Store(true)
	ref := newPooledTestServer(t)
	for _, pc := range cases {
		rec := pc.send(ref)
		pc.status, pc.answer, pc.header = rec.Code, rec.Body.String(), rec.Header()
		if pc.status == 0 || pc.answer == "" {
			t.Fatalf("%s: no answer", pc.body)
		}
	}
	unpooledStates.Store(false)
	if cases[0].status != 200 || cases[2].status != 400 || cases[3].status != 404 {
		t.Fatalf("statuses %d %d %d", cases[0].status, cases[2].status, cases[3].status)
	}

	srv := newPooledTestServer(t)
	check := func(pc *pooledCase, rec *httptest.ResponseRecorder) error {
		if rec.Code != pc.status || rec.Body.String() != pc.answer {
			return fmt.Errorf("%.60s: got %d %q\nwant %d %q", pc.body, rec.Code, rec.Body, pc.status, pc.answer)
		}
		for _, h := range []string{"Content-Type", "X-Request-Id", "X-Dashscope-Finished"} {
			if rec.Header().Get(h) != pc.header.Get(h) {
				return fmt.Errorf("%.60s: header %s %q, want %q", pc.body, h, rec.Header().Get(h), pc.header.Get(h))
			}
		}
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sent := make([]*pooledCase, 0, 400)
	for range 200 { // one after another, in random order
		pc := cases[rng.IntN(len(cases))]
		if err := check(pc, pc.send(srv)); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, pc)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	var mu sync.Mutex
	for g := range 4 { // and concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				pc := cases[(g*7+i*3)%len(cases)]
				if err := check(pc, pc.send(srv)); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				sent = append(sent, pc)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// The journal's bodies and answers point into memory of their own.
	recs := srv.Requests()
	if len(recs) != len(sent) {
		t.Fatalf("%d journal records, %d requests", len(recs), len(sent))
	}
	byBody := map[string]*pooledCase{}
	for _, pc := range cases {
		byBody[pc.body] = pc
	}
	counts := map[string]int{}
	for _, r := range recs {
		pc, ok := byBody[r.Body]
		if !ok {
			t.Fatalf("journal body %q was not sent", r.Body)
		}
		if r.Response != pc.answer || r.Status != pc.status || r.BodyTruncated || r.ResponseTruncated {
			t.Fatalf("journal of %.60s: %d %q, want %d %q", pc.body, r.Status, r.Response, pc.status, pc.answer)
		}
		if r.Headers["Authorization"] != "Bearer "+keyLabel("sk-pool-test-0000001234") {
			t.Fatalf("journal Authorization %q", r.Headers["Authorization"])
		}
		counts[r.Body]++
	}
	for _, pc := range sent {
		counts[pc.body]--
	}
	for b, n := range counts {
		if n != 0 {
			t.Fatalf("%.60s: journal count off by %d", b, n)
		}
	}
}

// TestAppendCompatUsage checks the hand-written usage object against the reflective encoding
// for every combination of its optional parts.
func TestAppendCompatUsage(t *testing.T) {
	for _, thinking := range []bool{false, true} {
		for _, cu := range []cacheUse{{}, {implicit: 256}, {explicit: true, hit: 1024, created: 300}, {explicit: true}} {
			c := &call{promptTokens: 1500, thinking: thinking, cache: cu}
			res := &result{completionTokens: 77, reasoningTokens: 12}
			u := usageOf(c, res)
			if got, want := string(appendCompatUsage([]byte("x"), u)), "x"+string(marshalJSON(u)); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		}
	}
}

// TestAppendPrefixedJSONString checks it against appendJSONString of the whole string.
func TestAppendPrefixedJSONString(t *testing.T) {
	for _, s := range []string{"", "a-b", "quote\" back\\ \n \u2028 é \xff end", "\x80lead"} {
		got := string(appendPrefixedJSONString([]byte("["), "chatcmpl-", s))
		if want := "[" + string(appendJSONString(nil, "chatcmpl-"+s)); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := newUUID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// TestJournalHeadersFastPath checks journalHeaders, which skips sorting when every header
// fits, against the sorted copy it stands for, with headers that fit and headers that do not.
func TestJournalHeadersFastPath(t *testing.T) {
	sorted := func(h http.Header) (map[string]string, bool) {
		out := map[string]string{}
		used, truncated := 0, false
		for _, name := range slices.Sorted(maps.Keys(h)) {
			v := strings.Join(h[name], ", ")
			if redactedHeaders[name] {
				v = redactCredential(v)
			}
			if used+len(name)+len(v) > journalHeaderBytes {
				truncated = true
				continue
			}
			used += len(name) + len(v)
			out[name] = v
		}
		return out, truncated
	}
	key := "sk-abcdefghijklmnop1234"
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		h := http.Header{}
		switch i % 4 {
		case 0:
			h.Set("Authorization", "Bearer "+key)
		case 1:
			h.Set("Authorization", "bearer  "+key+" ")
		case 2:
			h.Add("Authorization", "Bearer "+key)
			h.Add("Authorization", "Basic other")
		}
		for j := range rng.IntN(24) {
			h.Add(fmt.Sprintf("X-H%d", rng.IntN(30)), strings.Repeat("v", rng.IntN(1200)))
			if j%5 == 0 {
				h.Set("Cookie", "session=s3cr3t-value-of-the-cookie")
			}
		}
		got, gotTrunc := journalHeaders(h, key, namesOf(key))
		want, wantTrunc := sorted(h)
		if !maps.Equal(got, want) || gotTrunc != wantTrunc {
			t.Fatalf("case %d: got %v %v, want %v %v", i, got, gotTrunc, want, wantTrunc)
		}
	}
}

// TestReadAllLikeReadAll checks the body reader against io.ReadAll through
// http.MaxBytesReader, for bodies of declared length (exact, shorter and longer than
// declared), unknown length, past the maximum and failing midway.
func TestReadAllLikeReadAll(t *testing.T) {
	srv, err := New(WithMaxBodyBytes(100))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		body   func() io.Reader
		length int64
	}{
		{"exact", func() io.Reader { return strings.NewReader("hello") }, 5},
		{"empty", func() io.Reader { return strings.NewReader("") }, 0},
		{"shorter than declared", func() io.Reader { return strings.NewReader("hel") }, 5},
		{"longer than declared", func() io.Reader { return strings.NewReader("hello world") }, 5},
		{"longer past the maximum", func() io.Reader { return strings.NewReader(strings.Repeat("x", 150)) }, 60},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(strings.NewReader("hello world")) }, 11},
		{"unknown length", func() io.Reader { return strings.NewReader("hello world") }, -1},
		{"unknown length past the maximum", func() io.Reader { return strings.NewReader(strings.Repeat("y", 101)) }, -1},
		{"at the maximum", func() io.Reader { return strings.NewReader(strings.Repeat("z", 100)) }, 100},
		{"error midway", func() io.Reader { return io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)) }, 10},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(strings.NewReader("hello")) }, 5},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(tc.body()))
		r.ContentLength = tc.length
		got, gotErr := srv.readAll(httptest.NewRecorder(), r)
		r = httptest.NewRequest(http.MethodPost, "/", io.NopCloser(tc.body()))
		want, wantErr := io.ReadAll(http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100))
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || (wantErr == nil && !bytes.Equal(got, want)) {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, gotErr, want, wantErr)
		}
	}
}

// TestLiteralRegex checks that a fixture regex taken as a literal matches exactly what the
// regex matches.
func TestLiteralRegex(t *testing.T) {
	inputs := []string{"", "hi", "你是谁？", "你是谁？\n", "\n你是谁？", "a.b", "axb", "HI", "hi\n", "\xff", "\ufffd", "a\nb"}
	for _, re := range []string{"^你是谁？$", "^hi$", "^$", "^a.b$", "^a\\.b$", "hi", "^hi", "hi$", "^(?i)hi$", "^\ufffd$", "^a\nb$", "^[h]i$"} {
		lit, ok := literalRegex(re)
		compiled := regexp.MustCompile(re)
		for _, in := range inputs {
			if ok && (in == lit) != compiled.MatchString(in) {
				t.Errorf("%q as literal %q on %q: %v, the regex says %v", re, lit, in, in == lit, compiled.MatchString(in))
			}
		}
		if want := re == "^你是谁？$" || re == "^hi$" || re == "^$" || re == "^a\nb$"; ok != want {
			t.Errorf("%q: literal %v, want %v", re, ok, want)
		}
	}
}
