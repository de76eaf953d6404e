//go:build browser

package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile, no network of its own beyond
// the test server, and returns a tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs %s (apt-get install chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1100),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	// Start the browser on this context, so that the shorter contexts of single steps do
	// not own it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// artifactDir is where screenshots go: $QWENMOCK_ARTIFACTS, else the test's temporary dir.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("QWENMOCK_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestDashboardBrowser loads /_mock/ in Chromium under an admin token, sends traffic with a
// 429, a fault and an interrupted stream, and checks that the chart and the journal show
// them; then it advances the clock and resets with the page's buttons, and fills the journal
// with 1,000 requests.
func TestDashboardBrowser(t *testing.T) {
	const admin = "adm-secret"
	srv := newTestHandler(t, WithAdminToken(admin), WithModelLimits("qwen3-max", RateLimits{RPM: 4, TPM: 1000000}))
	ts := serveHTTP(t, srv)
	ctx := newBrowser(t)

	key := func(k string) []string { return []string{"Authorization", "Bearer " + k} }
	body := `{"model":"qwen3-max","messages":[{"role":"user","content":"Say hello."}]}`
	// Spread over the window: four admitted for team A, then two 429s, 10 s apart.
	for i := range 6 {
		code, out := post(t, ts, body, key("sk-team-a-0000aaaa")...)
		if want := map[bool]int{true: 200, false: 429}[i < 4]; code != want {
			t.Fatalf("request %d: %d %s", i, code, out)
		}
		srv.Advance(8 * time.Second)
	}
	post(t, ts, `{"model":"qwen-plus","messages":[{"role":"user","content":"Write a haiku."}]}`, key("sk-team-b-1111bbbb")...)
	post(t, ts, body, append(key("sk-team-b-1111bbbb"), "X-Mock-Fault", "overloaded")...)
	req, _ := http.NewRequest(http.MethodPost, ts.OpenAIBaseURL()+"/chat/completions",
		strings.NewReader(`{"model":"qwen3-max","stream":true,"messages":[{"role":"user","content":"Tell me a story."}]}`))
	req.Header.Set("Authorization", "Bearer sk-team-b-1111bbbb")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Fault", "stream_drop; after_chunks=2")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			status, err2 := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent + " | " + document.body.innerText.slice(0, 2000)`))
			t.Fatalf("%v; the page shows: %s (%v)", err, status, err2)
		}
	}
	text := func(sel string) string {
		t.Helper()
		// One evaluation reads the text at once: the page replaces its nodes every second.
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q) || {}).innerText || ''", sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	// wait polls a condition in the page (a selector that must match, or with a leading "!"
	// must not) every 50 ms.
	wait := func(sel string) chromedp.Action[chromedp.Void] {
		expr := fmt.Sprintf("document.querySelector(%q) !== null", strings.TrimPrefix(sel, "!"))
		if strings.HasPrefix(sel, "!") {
			expr = "!(" + expr + ")"
		}
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			for {
				ok, err := chromedp.Evaluate[bool](expr)(ctx, tg)
				if err != nil || ok {
					return chromedp.Void{}, err
				}
				select {
				case <-ctx.Done():
					return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", sel, ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	js := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](expr)(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+fmt.Sprintf("%q", sel)+`).length`))
		if err != nil {
			t.Fatalf("count of %s: %v", sel, err)
		}
		return n
	}

	run(chromedp.Navigate(ts.URL+"/_mock/"),
		// Without the token the page says so; with it, it loads.
		wait("#status.err"),
		chromedp.SetValue("#token", admin),
		js(`document.getElementById("token").dispatchEvent(new Event("change"))`),
		wait(`body[data-ready="1"]`),
		wait(`.scope[data-model="qwen3-max"][data-rejected="2"]`),
	)
	scopeA := `.scope[data-account="key:` + keyLabel("sk-team-a-0000aaaa") + `"][data-model="qwen3-max"]`
	rpm, rejected, nowBefore := text(scopeA+" .rpm-use"), text(scopeA+" .rejected"), text("#now")
	rows, rateRows, failRows, cutRows := count("#journal tbody tr.row"), count("#journal tbody tr.rate"), count("#journal tbody tr.fail"), count("#journal tbody tr.cut")
	// 48 s after the first request the window still holds team A's four admitted requests.
	if rpm != "4" || rejected != "2" || rows != 9 || rateRows != 2 || failRows != 1 || cutRows != 1 {
		t.Fatalf("page shows rpm=%s rejected=%s rows=%d 429 rows=%d fault rows=%d cut rows=%d", rpm, rejected, rows, rateRows, failRows, cutRows)
	}

	// Open the newest 429 row: its request and response bodies appear.
	run(chromedp.Click(`#journal tbody tr.rate`), wait(`#journal tr.detail pre.resp`))
	if respBody := text(`#journal tr.detail pre.resp`); !strings.Contains(respBody, `"limit_requests"`) {
		t.Fatalf("response body of the 429: %q", respBody)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// The clock button: 60 s later every window is empty and the charts say so.
	run(chromedp.SetValue("#advance-s", "60"), chromedp.Click("#advance"), wait(`!.scope`))
	if nowAfter, charts := text("#now"), text("#charts"); nowAfter == nowBefore || !strings.Contains(charts, "No rate-limited traffic") {
		t.Fatalf("after advancing: now %q (was %q), charts %q", nowAfter, nowBefore, charts)
	}
	if got := srv.Now().Sub(testTime); got != 108*time.Second {
		t.Fatalf("server clock moved %v, want 108s", got)
	}

	// The reset button empties the journal; 1,000 new requests all show.
	run(chromedp.Click("#reset"), wait(`!#journal tbody tr.row`))
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("journal after reset: %d", n)
	}
	if err := srv.SetLimits("qwen3-max", RateLimits{RPM: Unlimited, TPM: Unlimited}); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		chatAs(t, srv, fmt.Sprintf("sk-load-%04d", i%7), body)
	}
	start := time.Now()
	run(wait(`#journal tbody tr.row[data-seq="1009"]`))
	if n := count("#journal tbody tr.row"); n != 1000 {
		t.Fatalf("rows after 1,000 requests: %d", n)
	}
	t.Logf("1,000 journal rows shown %v after the last request", time.Since(start).Round(time.Millisecond))
}
