//go:build integration

package flush_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
	"github.com/f2b-notify/f2b-notify/render"
)

// parts returns the decoded parts of a message by media type, those of the
// multipart/related HTML alternative (the HTML and its chart) included.
func parts(t *testing.T, m *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	readParts(t, m.Body, params["boundary"], out)
	return out
}

func readParts(t *testing.T, body io.Reader, boundary string, out map[string]string) {
	t.Helper()
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "multipart/") {
			readParts(t, p, params["boundary"], out)
			continue
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out[ct] = string(b)
	}
}

// TestEmailThroughRealSendmail runs bans through the buffer, a flush, the
// sendmail channel, Debian's msmtp and an SMTP server on 127.0.0.1, then takes
// the server down and up again: nothing is lost, nothing is sent twice.
func TestEmailThroughRealSendmail(t *testing.T) {
	msmtp := testenv.NeedCommand(t, "msmtp", "msmtp")
	sink := smtpsink.Start(t)
	dir := t.TempDir()
	rc := testenv.MsmtpConfig(t, dir, sink.Host(), sink.Port())

	cfg, err := config.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Buffer = config.Buffer{Dir: filepath.Join(dir, "buf"), Fsync: true, MaxAge: time.Hour, MaxSizeMB: 16}
	cfg.Flag = filepath.Join(dir, "mail.flag")
	cfg.Host = "vm.example.org"
	cfg.Report.Timezone = "UTC"
	retries := 0
	cfg.Channels = map[string]config.Channel{"admin-mail": {Type: "sendmail", Retries: &retries, Timeout: 20 * time.Second, Settings: map[string]any{
		"to": []any{"root@localhost"}, "from": "fail2ban@vm.example.org", "sendmail": msmtp, "args": []any{"-C", rc},
	}}}
	targets, err := render.Prepare(cfg)
	if err != nil || targets[0].Err != nil {
		t.Fatalf("prepare: %v %v", err, targets[0].Err)
	}
	buf := buffer.New(cfg.Buffer.Dir, true)
	hostileUser := `<b>root</b>$(touch /tmp/pwned)` + "`id`;|&\r\nBcc: evil@example.com"
	hostileMatch := `Nov 25 17:36:52 vm sshd[1001]: Invalid user <script>alert(1)</script> from 203.0.113.9 port 22 "quoted" 'single' $HOME`
	for _, r := range []*buffer.Record{
		{V: 1, Action: "ban", Jail: "sshd", IP: "203.0.113.9", Time: 1795628212, Failures: 5, User: hostileUser, Matches: []string{hostileMatch}},
		{V: 1, Action: "ban", Jail: "postfix-sasl", IP: "2001:db8::42", Time: 1795628300, Failures: 3, User: "info"},
	} {
		if err := buf.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	res, err := flush.Run(context.Background(), cfg, targets, flush.Options{})
	if err != nil || len(res.Failed()) != 0 {
		t.Fatalf("flush: %v %+v", err, res)
	}
	msgs := sink.WaitFor(t, 1, 10*time.Second)
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	if !strings.Contains(subject, "vm.example.org") || !strings.Contains(subject, "2 bans") {
		t.Errorf("Subject %q", subject)
	}
	if m.Header.Get("From") == "" || !strings.Contains(m.Header.Get("To"), "root@localhost") || m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", m.Header)
	}
	if len(m.Header["Bcc"]) != 0 || len(msgs[0].To) != 1 {
		t.Errorf("a Bcc came through: header %v, envelope %v", m.Header["Bcc"], msgs[0].To)
	}
	p := parts(t, m)
	text, html := p["text/plain"], p["text/html"]
	if _, ok := p["image/png"]; !ok || !strings.Contains(html, `<img src="cid:bans.`) {
		t.Errorf("the chart is not in the HTML alternative: parts %v", slices.Sorted(maps.Keys(p)))
	}
	for _, ip := range []string{"203.0.113.9", "2001:db8::42"} {
		if !strings.Contains(text, ip) || !strings.Contains(html, ip) {
			t.Errorf("offender %s missing from a part", ip)
		}
	}
	// Text: shown literally, control characters made visible.
	if !strings.Contains(text, `<b>root</b>$(touch /tmp/pwned)`+"`id`;|&"+`\r\nBcc: evil@example.com`) || !strings.Contains(text, "<script>alert(1)</script>") {
		t.Errorf("text part does not show the hostile user and match literally:\n%s", text)
	}
	// HTML: escaped, never live markup.
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>root") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(html, "&lt;b&gt;root&lt;/b&gt;") {
		t.Errorf("html part does not escape the hostile text:\n%s", html)
	}

	// The server goes down: the flush reports it, and keeps the bans.
	sink.Stop()
	if err := buf.Append(&buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: "198.51.100.8", Time: 1795629000, Failures: 2}); err != nil {
		t.Fatal(err)
	}
	res, err = flush.Run(context.Background(), cfg, targets, flush.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "admin-mail") {
		t.Fatalf("flush with the server down: %+v", res.Channels)
	}
	if b, _ := buf.Batches(); len(b) != 1 {
		t.Fatalf("spool after the failure: %v", b)
	}
	// Back up: the next flush delivers the kept ban, once, and nothing older.
	sink.Restart(t)
	res, err = flush.Run(context.Background(), cfg, targets, flush.Options{})
	if err != nil || len(res.Failed()) != 0 {
		t.Fatalf("flush after restart: %v %+v", err, res.Channels)
	}
	msgs = sink.WaitFor(t, 2, 10*time.Second)
	second := string(msgs[1].Data)
	if !strings.Contains(second, "198.51.100.8") || strings.Contains(second, "203.0.113.9") {
		t.Errorf("second mail should hold only the kept ban")
	}
	if !strings.Contains(second, "missed 1") {
		t.Errorf("second mail does not say a report was missed")
	}
	if b, _ := buf.Batches(); len(b) != 0 {
		t.Errorf("spool not empty after delivery: %v", b)
	}
}
