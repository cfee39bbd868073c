package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/banpath"
	"github.com/f2b-notify/f2b-notify/templates"
)

// These tests call the commands' run functions directly, with the output
// streams a user would see in buffers.

// site is a configuration file and its buffer folder in a folder of the test.
type site struct {
	dir, cfg, buf string
	out, err      bytes.Buffer
}

// newSite writes a configuration whose channels block is channels, with
// {DIR} replaced by the test's folder.
func newSite(t *testing.T, channels string) *site {
	t.Helper()
	s := &site{dir: t.TempDir()}
	s.cfg = filepath.Join(s.dir, "config.yaml")
	s.buf = filepath.Join(s.dir, "buf")
	yaml := "buffer:\n  dir: " + s.buf + "\n  fsync: false\nhost: run.test\nreport:\n  timezone: UTC\nchannels:\n" +
		strings.ReplaceAll(channels, "{DIR}", s.dir)
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *site) globals() *Globals {
	s.out.Reset()
	s.err.Reset()
	return &Globals{IO: &IO{In: strings.NewReader(""), Out: &s.out, Err: &s.err}, ConfigFlag: s.cfg}
}

// ban stores a ban of ip in the site's buffer, as fail2ban's ban command would.
func (s *site) ban(t *testing.T, ip string) {
	t.Helper()
	if e := banPath().Run(banpath.Args{Action: buffer.ActionBan, Jail: "sshd", IP: ip, Failures: "3"}, s.cfg, time.Now()); e.Code != 0 {
		t.Fatalf("ban %s: %s", ip, e.Msg)
	}
}

const fileChannel = "  log:\n    type: file\n    path: {DIR}/report.txt\n"

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func TestCheckRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel)
	if err := checkRun(&CheckOptions{Globals: s.globals(), Now: time.Now()}); err != nil {
		t.Fatalf("check of a good configuration: %v\n%s", err, s.err.String())
	}
	if !strings.Contains(s.out.String(), "ok: channel log (file): text\n") || !strings.HasSuffix(s.out.String(), s.cfg+": ok\n") {
		t.Errorf("check says:\n%s", s.out.String())
	}

	s = newSite(t, fileChannel+"    colour: blue\n")
	err := checkRun(&CheckOptions{Globals: s.globals(), Now: time.Now()})
	if exitCode(t, err) != 1 || err.Error() != "check: 1 problem in "+s.cfg {
		t.Errorf("check of a channel with an unknown key: %v", err)
	}
	if !strings.Contains(s.err.String(), "colour") {
		t.Errorf("check does not name the key at fault:\n%s", s.err.String())
	}
}

func TestStatusRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel)
	s.ban(t, "192.0.2.1")
	if err := statusRun(&StatusOptions{Globals: s.globals()}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pending: 1 record\n", "batches: 0\n", "flag: ", "channel log (file, enabled): 0 batches waiting\n"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, s.out.String())
		}
	}

	// The flag turned off is said as such, not as an absent file of no name.
	s = newSite(t, fileChannel+"flag: \"\"\n")
	if err := statusRun(&StatusOptions{Globals: s.globals()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), "\nflag: none (turned off)\n") {
		t.Errorf("status with the flag turned off:\n%s", s.out.String())
	}
}

func TestPreviewRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel+"  mail:\n    type: sendmail\n    sendmail: /bin/true\n    from: f2b@example.org\n    to: [admin@example.org]\n")
	s.ban(t, "192.0.2.7")
	if err := previewRun(&PreviewOptions{Globals: s.globals(), Channel: "mail", Payload: true}); err != nil {
		t.Fatalf("preview --payload of a sendmail channel: %v", err)
	}
	out := s.out.String()
	for _, want := range []string{"### channel mail (sendmail) payload\n", "To: <admin@example.org>", "multipart/alternative", "192.0.2.7"} {
		if !strings.Contains(out, want) {
			t.Errorf("the payload has no %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(s.buf, "spool")); !os.IsNotExist(err) {
		t.Errorf("preview claimed the buffer: %v", err)
	}
	if err := previewRun(&PreviewOptions{Globals: s.globals(), Channel: "log"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), "### channel log (file, text)\nSubject: [Fail2Ban] run.test: 1 ban, ") {
		t.Errorf("preview of the file channel:\n%s", s.out.String())
	}
}

func TestTestRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel)
	if err := testRun(context.Background(), &TestOptions{Globals: s.globals(), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if s.out.String() != "log (file): sent\n" {
		t.Errorf("test says %q", s.out.String())
	}
	report, err := os.ReadFile(filepath.Join(s.dir, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(report), "\n", 3)
	if !strings.HasPrefix(lines[0], "=== [test] [Fail2Ban] run.test: ") || lines[1] != testLine {
		t.Errorf("the test message does not say it is one:\n%s", strings.Join(lines[:2], "\n"))
	}
}

// TestTestRunStops: test stops when its context ends (Ctrl-C), rather than
// waiting for a channel that hangs.
func TestTestRunStops(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	s := newSite(t, "  hook:\n    type: webhook\n    url: "+srv.URL+"/hook\n    timeout: 1m\n")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := testRun(ctx, &TestOptions{Globals: s.globals(), Now: time.Now()})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("test went on for %v after it was interrupted", took)
	}
	if exitCode(t, err) != 1 || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("test interrupted: %v", err)
	}
}

func TestFlushRunQuiet(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel)
	s.ban(t, "192.0.2.3")
	if err := flushRun(&FlushOptions{Globals: s.globals()}); err != nil {
		t.Fatal(err)
	}
	if s.out.Len()+s.err.Len() != 0 {
		t.Errorf("a flush that went well said: %q %q", s.out.String(), s.err.String())
	}
	s.ban(t, "192.0.2.4")
	if err := flushRun(&FlushOptions{Globals: s.globals(), Verbose: true, Timestamps: true}); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(s.out.String(), "\n")
	if got := unstamp(line); got != "log: sent 1 ban from 1 batch" || got == line {
		t.Errorf("flush -v --timestamps says %q", s.out.String())
	}
}

func TestStartRun(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel)
	if err := startRun(&StartOptions{Globals: s.globals(), Jail: "sshd"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(s.buf); err != nil || !st.IsDir() {
		t.Fatalf("start made no buffer folder: %v", err)
	}
	// A folder where the lock file should be: no ban could take the lock.
	lock := filepath.Join(s.buf, buffer.LockFile)
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o700); err != nil {
		t.Fatal(err)
	}
	err := startRun(&StartOptions{Globals: s.globals(), Jail: "sshd"})
	if exitCode(t, err) != 1 || !strings.Contains(err.Error(), "cannot take the buffer lock") {
		t.Errorf("start with a folder as the lock: %v", err)
	}
}

// TestMarkTestHTML: in a whole HTML document, the test line is the first
// thing of its body, not before its doctype.
func TestMarkTestHTML(t *testing.T) {
	t.Parallel()
	m := channels.Message{Subject: "s", Bodies: map[channels.Format]string{
		templates.HTML: "<!DOCTYPE html>\n<html><body style=\"x\">\n<h1>Report</h1></body></html>",
		templates.Text: "Report",
	}}
	if err := markTest(&m, []channels.Format{templates.Text, templates.HTML}); err != nil {
		t.Fatal(err)
	}
	if want := "<!DOCTYPE html>\n<html><body style=\"x\">\n<p><i>" + testLine + "</i></p>\n\n<h1>Report</h1>"; !strings.HasPrefix(m.Bodies[templates.HTML], want) {
		t.Errorf("html body:\n%s", m.Bodies[templates.HTML])
	}
	if m.Bodies[templates.Text] != testLine+"\n\nReport" || m.Subject != "[test] s" {
		t.Errorf("text: %q, subject %q", m.Bodies[templates.Text], m.Subject)
	}
}

// TestMarkTestSMS: an SMS summary says it is a test in a word, not in a
// line of its own that would take a second message.
func TestMarkTestSMS(t *testing.T) {
	t.Parallel()
	m := channels.Message{Subject: "s", Bodies: map[channels.Format]string{channels.SMSFormat: "f2b host: 3 bans/2 IPs"}}
	if err := markTest(&m, []channels.Format{channels.SMSFormat}); err != nil {
		t.Fatal(err)
	}
	if got := m.Bodies[channels.SMSFormat]; got != "[test] f2b host: 3 bans/2 IPs" {
		t.Errorf("sms body %q", got)
	}
}

// TestTestRunAttachmentFails: test says when a channel took the test report
// but not its chart (here an ntfy server that takes no files), and exits 1:
// the flush would warn about it every time.
func TestTestRunAttachmentFails(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"code":40014,"http":400,"error":"invalid request: attachments not allowed"}`))
			return
		}
		w.Write([]byte(`{"id":"x"}`))
	}))
	t.Cleanup(srv.Close)
	s := newSite(t, "  phone:\n    type: ntfy\n    server: "+srv.URL+"\n    topic: bans\n    retries: 0\n")
	err := testRun(context.Background(), &TestOptions{Globals: s.globals(), Now: time.Now()})
	out := s.out.String()
	if !strings.HasPrefix(out, "phone (ntfy): sent, but: channel \"phone\": the report was delivered, but not the attached bans.png: ") ||
		!strings.Contains(out, "attachments not allowed") {
		t.Errorf("test says %q", out)
	}
	if exitCode(t, err) != 1 || !strings.Contains(err.Error(), "phone") {
		t.Errorf("test with an attachment refused: %v", err)
	}
}

// TestPreviewRunAttachments: preview lists the chart that goes with a
// report, and --attachments DIR writes it there as CHANNEL-FILE, a PNG; a
// symbolic link planted at that name in a shared folder is replaced, not
// written through (preview runs as root).
func TestPreviewRunAttachments(t *testing.T) {
	t.Parallel()
	s := newSite(t, "  phone:\n    type: ntfy\n    topic: bans\n")
	now := time.Now()
	for i, ip := range []string{"192.0.2.7", "192.0.2.8"} {
		r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Failures: 3,
			Time: float64(now.Add(-time.Duration(i) * 2 * time.Hour).Unix()), At: now.Unix()}
		if err := buffer.New(s.buf, false).Append(r); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(s.dir, "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(s.dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(dir, "phone-bans.png")
	if err := os.Symlink(victim, chart); err != nil {
		t.Fatal(err)
	}
	if err := previewRun(&PreviewOptions{Globals: s.globals(), Attachments: dir}); err != nil {
		t.Fatalf("preview --attachments: %v", err)
	}
	want := "### channel phone: attachment bans.png (image/png, "
	if out := s.out.String(); !strings.Contains(out, want) || !strings.Contains(out, ", written to "+chart+"): Bans per ") {
		t.Errorf("preview does not list the chart it wrote:\n%s", out)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Errorf("preview wrote through the link at %s into %s: %.12q, %v", chart, victim, b, err)
	}
	if fi, err := os.Lstat(chart); err != nil {
		t.Fatal(err)
	} else if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s is %v, want a file of mode 0600", chart, fi.Mode())
	}
	if b, _ := os.ReadFile(chart); !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG", chart)
	}
}
