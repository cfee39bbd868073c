//go:build integration

package channels_test

import (
	"bufio"
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestSendmailMsmtp sends through Debian's msmtp, a real sendmail
// replacement, relaying to the sink.
func TestSendmailMsmtp(t *testing.T) {
	ch, sink, dir := msmtpChannel(t)
	html := "<p>ban 203.0.113.7 &lt;script&gt;alert(1)&lt;/script&gt;</p>"
	if err := sendMessage(testCtx(t), ch, "Report\r\nBcc: evil@example.com", hostileBody, html); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "msmtp.log"))
		t.Fatalf("send: %v\nmsmtp log:\n%s", err, log)
	}
	m := sink.WaitFor(t, 1, 5*time.Second)[0]
	if m.From != testFrom || !slices.Equal(m.To, []string{testTo}) {
		t.Errorf("envelope %s → %v, want %s → [%s]", m.From, m.To, testFrom, testTo)
	}
	r := parseReceived(t, m.Data)
	checkHeaders(t, r, testTo)
	if r.subject != "Report Bcc: evil@example.com" {
		t.Errorf("subject %q", r.subject)
	}
	if got := lf(r.parts["text/plain"]); got != lf(hostileBody) {
		t.Errorf("text part %q, want %q", got, lf(hostileBody))
	}
	if got := lf(r.parts["text/html"]); got != html {
		t.Errorf("html part %q, want %q", got, html)
	}
	if _, err := os.Stat("/tmp/x"); err == nil {
		t.Log("note: /tmp/x exists (maybe from elsewhere); the body is never run by a shell here")
	}
	// Nothing from the body leaked into the header section.
	sc := bufio.NewScanner(bytes.NewReader(m.Data))
	for sc.Scan() && sc.Text() != "" {
		if strings.HasPrefix(strings.ToLower(sc.Text()), "bcc:") {
			t.Errorf("Bcc header line: %q", sc.Text())
		}
	}

	sink.Stop()
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("send with the relay down: no error")
	}
	t.Logf("relay down: %v", err)
	msmtp := testenv.NeedCommand(t, "msmtp", "msmtp") // the program the channel runs
	want := regexp.MustCompile(`^channel "admin-mail": sendmail ` + regexp.QuoteMeta(msmtp) + `: exit status [1-9][0-9]*: .+`)
	if !want.MatchString(err.Error()) {
		t.Errorf("error %q does not match %s", err, want)
	}
}

// TestSendmailMsmtpChart sends a report with its chart through msmtp: the
// picture arrives whole, inside the HTML alternative, under the Content-ID
// the HTML names.
func TestSendmailMsmtpChart(t *testing.T) {
	ch, sink, dir := msmtpChannel(t)
	m := renderReport(t, ch, config.Channel{Type: "sendmail"}, sampleDigest())
	if len(m.Attachments) != 1 {
		t.Fatalf("attachments %v, want the chart", m.Attachments)
	}
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "msmtp.log"))
		t.Fatalf("send: %v\nmsmtp log:\n%s", err, log)
	}
	root := parseMIME(t, sink.WaitFor(t, 1, 5*time.Second)[0].Data)
	if got, want := root.shape(), "multipart/alternative[text/plain multipart/related[text/html image/png]]"; got != want {
		t.Fatalf("MIME structure %s, want %s", got, want)
	}
	img := root.one(t, "image/png")
	if !bytes.Equal(img.body, m.Attachments[0].Data) {
		t.Fatalf("the picture arrived as %d bytes, not the %d of the chart", len(img.body), len(m.Attachments[0].Data))
	}
	if _, err := png.Decode(bytes.NewReader(img.body)); err != nil {
		t.Errorf("the picture that arrived does not decode: %v", err)
	}
	match := imgTag.FindStringSubmatch(string(root.one(t, "text/html").body))
	if match == nil || "<"+match[1]+">" != img.header.Get("Content-Id") {
		t.Errorf("the HTML's picture %q is not the part %s", match, img.header.Get("Content-Id"))
	}
}

// msmtpChannel is a sendmail channel that runs Debian's msmtp, relaying to
// a sink of its own, and the folder of msmtp's configuration and log.
func msmtpChannel(t *testing.T) (channels.Channel, *smtpsink.Sink, string) {
	t.Helper()
	msmtp := testenv.NeedCommand(t, "msmtp", "msmtp")
	sink := smtpsink.Start(t)
	dir := t.TempDir()
	rc := testenv.MsmtpConfig(t, dir, sink.Host(), sink.Port())
	ch := newChannel(t, "admin-mail", "sendmail", map[string]any{
		"sendmail": msmtp,
		"args":     []any{"-C", rc},
		"from":     testFrom,
		"to":       []any{testTo},
	})
	return ch, sink, dir
}
