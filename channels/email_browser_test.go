//go:build integration

package channels_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
	"github.com/f2b-notify/f2b-notify/report"
)

// A phone's screen in CSS pixels (an iPhone 12 to 15), and its pixel ratio.
const (
	phoneWidth  = 390
	phoneHeight = 844
	phoneScale  = 3
)

// pageCheck is what the page says of itself once loaded, in CSS pixels.
type pageCheck struct {
	Images []struct {
		Src          string  `json:"src"`
		Alt          string  `json:"alt"`
		Complete     bool    `json:"complete"`
		NaturalWidth int     `json:"naturalWidth"`
		Width        float64 `json:"width"`
	} `json:"images"`
	InnerWidth  int      `json:"innerWidth"` // the layout viewport: wider than the screen when something overflows
	ScrollWidth int      `json:"scrollWidth"`
	Wide        []string `json:"wide"` // elements that reach past the screen's edges
}

// checkPage reads the pictures and the width of the page, and the elements
// whose box goes beyond a screen of w CSS pixels, left or right. (A mobile
// browser widens the page's viewport, innerWidth, to show what overflows,
// so the screen's width is given for the boxes, and innerWidth is read to
// see whether it was widened.)
const checkPage = `((w) => {
	const wide = [];
	for (const e of document.body.querySelectorAll('*')) {
		const r = e.getBoundingClientRect();
		if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5) && wide.length < 20) {
			wide.push(e.tagName.toLowerCase() + ' from ' + Math.round(r.left) + ' to ' + Math.round(r.right) + 'px: ' + (e.textContent || '').trim().slice(0, 60));
		}
	}
	return {
		images: [...document.images].map(i => ({src: i.getAttribute('src'), alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth, width: i.getBoundingClientRect().width})),
		innerWidth: window.innerWidth,
		scrollWidth: document.documentElement.scrollWidth,
		wide: wide,
	};
})`

// artifactDir is where the browser test leaves its screenshot:
// $F2B_NOTIFY_ARTIFACTS, else ${XDG_CACHE_HOME:-$HOME/.cache}/f2b-notify-tests/artifacts.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("F2B_NOTIFY_ARTIFACTS")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("no folder for the test's artifacts: set F2B_NOTIFY_ARTIFACTS (%v)", err)
		}
		dir = filepath.Join(cache, "f2b-notify-tests", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts folder: %v", err)
	}
	return dir
}

// longWordsDigest is a report whose words do not break: the longest user
// name shown, jail name and IPv6 address, and a log line without a space.
func longWordsDigest() *report.Digest {
	b := report.NewBuilder(report.Options{Host: "mail-gateway-frontend-07.eu-central.example.org", Generated: digestEnd})
	ip := "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
	for i, jail := range []string{"postfix-sasl-submission-port-587-strict", "sshd"} {
		b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: jail, IP: ip,
			Time: float64(digestEnd.Add(-time.Duration(i+1) * time.Hour).Unix()), At: digestEnd.Unix(), Failures: 5, Bantime: 600,
			User: strings.Repeat("x", report.MaxUserLen), Matches: []string{strings.Repeat("GET/wp-login.php?", 20)}})
	}
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionUnban, Jail: "postfix-sasl-submission-port-587-strict", IP: ip,
		Time: float64(digestEnd.Unix()), At: digestEnd.Unix()})
	return b.Digest()
}

// TestEmailHTMLOnAPhone opens the HTML part of a report e-mail, its chart
// resolved the way a mail client resolves cid: (from the message's own
// parts), in headless Chromium at a phone's width: the chart loads, and
// nothing is wider than the screen, for the demo's sample and for words
// that do not break. The screenshots are left in the artifacts folder.
func TestEmailHTMLOnAPhone(t *testing.T) {
	chromium := testenv.NeedCommand(t, "chromium", "chromium")
	for name, d := range map[string]*report.Digest{"sample": sampleDigest(), "long-words": longWordsDigest()} {
		t.Run(name, func(t *testing.T) { phoneCheck(t, chromium, name, d) })
	}
}

// phoneCheck opens the e-mail of d's report in chromium at a phone's size.
func phoneCheck(t *testing.T, chromium, name string, d *report.Digest) {
	ch := newChannel(t, "admin-mail", "smtp", map[string]any{"host": "127.0.0.1", "from": testFrom, "to": testTo})
	m := renderReport(t, ch, config.Channel{Type: "smtp"}, d)
	raw, err := ch.(channels.Payloader).Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	root := parseMIME(t, raw)
	html := string(root.one(t, "text/html").body)

	// The page and the parts it names by Content-ID, from 127.0.0.1 only.
	byCID := map[string]*mimePart{}
	for _, p := range root.find("image/png") {
		byCID[strings.Trim(p.header.Get("Content-Id"), "<>")] = p
	}
	page := regexp.MustCompile(`(src=")cid:([^"]+)"`).ReplaceAllString(html, `${1}/cid/${2}"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(page))
			return
		}
		if r.URL.Path == "/favicon.ico" { // Chromium's own; a mail client asks for none
			http.NotFound(w, r)
			return
		}
		p := byCID[strings.TrimPrefix(r.URL.Path, "/cid/")]
		if p == nil {
			t.Errorf("the page asks for %s, which is no part of the message", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", p.typ)
		_, _ = w.Write(p.body)
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		// Nothing but the test's server: no name resolves, no proxy, no
		// component or update fetches. (chromedp adds --no-sandbox only
		// when run as root, where Chromium's sandbox cannot start.)
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-component-update", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	start := time.Now()
	err = chromedp.Do(bctx,
		chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(phoneScale), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/"), // returns once the page and its pictures have loaded
	)
	if err != nil {
		t.Fatalf("run Chromium %s: %v", chromium, err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[pageCheck](fmt.Sprintf("%s(%d)", checkPage, phoneWidth)))
	if err != nil {
		t.Fatalf("measure the page: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	cancelBrowser()
	t.Logf("Chromium started, loaded the page, measured it and took its screenshot in %s", time.Since(start).Round(time.Millisecond))

	dir := artifactDir(t)
	png, eml := filepath.Join(dir, "email-phone-"+name+".png"), filepath.Join(dir, "email-"+name+".eml")
	for path, data := range map[string][]byte{png: shot, eml: raw} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatalf("save the artifact: %v", err)
		}
	}
	t.Logf("screenshot at %dx%d CSS pixels: %s (the message: %s)", phoneWidth, phoneHeight, png, eml)

	if got.InnerWidth != phoneWidth {
		t.Errorf("the browser widened the page to %d CSS pixels on a %d-pixel screen: something overflows (or the viewport meta tag is missing)", got.InnerWidth, phoneWidth)
	}
	if len(got.Images) != 1 {
		t.Fatalf("%d pictures in the page, want the chart: %+v", len(got.Images), got.Images)
	}
	img := got.Images[0]
	if !img.Complete || img.NaturalWidth == 0 {
		t.Errorf("the chart did not load: %+v", img)
	}
	if img.NaturalWidth != 800 || img.Width <= 0 || img.Width > float64(phoneWidth) {
		t.Errorf("the chart (%d pixels) shows %.0f CSS pixels wide on a %d-pixel screen", img.NaturalWidth, img.Width, phoneWidth)
	}
	if img.Alt != m.Attachments[0].Caption {
		t.Errorf("alt %q, want the caption %q", img.Alt, m.Attachments[0].Caption)
	}
	if got.ScrollWidth > phoneWidth {
		t.Errorf("the page scrolls sideways: %d CSS pixels wide on a %d-pixel screen", got.ScrollWidth, phoneWidth)
	}
	for _, w := range got.Wide {
		t.Errorf("wider than the screen: %s", w)
	}
}
