package channels_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/templates"
)

const (
	testFrom = "f2b-notify@example.org"
	testTo   = "admin@example.com"
	// hostileBody is text an attacker controls (a log line) that must arrive
	// as body text and nothing else.
	hostileBody = "ban 203.0.113.7 <script>alert(1)</script> $(touch /tmp/x) `id`\r\nBcc: evil@example.com\r\nSubject: pwned\n.\nend of report"
)

// smtpSettings returns the settings of an smtp channel that sends to sink
// without TLS, plus extra.
func smtpSettings(sink *smtpsink.Sink, extra map[string]any) map[string]any {
	s := map[string]any{
		"host": sink.Host(),
		"port": sink.Port(),
		"from": testFrom,
		"to":   []any{testTo},
		"tls":  "none",
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func sendMessage(ctx context.Context, ch channels.Channel, subject, text, html string) error {
	ms, ok := ch.(channels.MessageSender)
	if !ok {
		return errors.New("channel is not a MessageSender")
	}
	return ms.SendMessage(ctx, channels.Message{
		Subject: subject,
		Bodies:  map[channels.Format]string{templates.Text: text, templates.HTML: html},
	})
}

// received is a message parsed the way a mail reader would.
type received struct {
	raw     []byte
	header  mail.Header
	headers []string // header field names in order, as sent
	subject string
	parts   map[string]string // media type → decoded body
}

func parseReceived(t *testing.T, raw []byte) received {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse received message: %v\n%s", err, raw)
	}
	r := received{raw: raw, header: m.Header, parts: map[string]string{}}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		r.headers = append(r.headers, textproto.CanonicalMIMEHeaderKey(name))
	}
	dec := new(mime.WordDecoder)
	if r.subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject %q: %v", m.Header.Get("Subject"), err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("parse Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		r.parts[mediaType] = decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return r
	}
	r.parts[mediaType] = ""
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read MIME part: %v", err)
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("parse part Content-Type: %v", err)
		}
		// multipart.Part has already undone quoted-printable.
		r.parts[pt] = decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), p)
	}
	return r
}

func decodeBody(t *testing.T, cte string, body io.Reader) string {
	t.Helper()
	if strings.EqualFold(cte, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// count returns how many header fields are called name.
func (r received) count(name string) int {
	n := 0
	for _, h := range r.headers {
		if strings.EqualFold(h, name) {
			n++
		}
	}
	return n
}

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// checkHeaders checks the headers every f2b-notify e-mail carries.
func checkHeaders(t *testing.T, r received, to ...string) {
	t.Helper()
	if got := r.header.Get("From"); !strings.Contains(got, testFrom) {
		t.Errorf("From = %q, want %s", got, testFrom)
	}
	for _, a := range to {
		if got := r.header.Get("To"); !strings.Contains(got, a) {
			t.Errorf("To = %q, want it to contain %s", got, a)
		}
	}
	if got := r.header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q, want auto-generated", got)
	}
	if _, err := r.header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if id := r.header.Get("Message-Id"); !regexp.MustCompile(`^<[0-9a-f]{32}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <id@host>", id)
	}
	for _, name := range []string{"Subject", "From", "To", "Date", "Message-Id", "Bcc"} {
		want := 1
		if name == "Bcc" {
			want = 0
		}
		if n := r.count(name); n != want {
			t.Errorf("%d %s header(s), want %d\n%s", n, name, want, r.raw)
		}
	}
}

func TestEmailSettingsErrors(t *testing.T) {
	base := func(kind string, change map[string]any) map[string]any {
		s := map[string]any{"from": testFrom, "to": []any{testTo}}
		if kind == "smtp" {
			s["host"] = "mail.example.com"
		}
		for k, v := range change {
			if v == nil {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		return s
	}
	tests := []struct {
		name   string
		kind   string
		change map[string]any
		want   []string
	}{
		{"missing to", "sendmail", map[string]any{"to": nil}, []string{"key to", "required"}},
		{"empty to", "smtp", map[string]any{"to": []any{}}, []string{"key to", "required"}},
		{"bad to", "smtp", map[string]any{"to": []any{"not an address"}}, []string{"key to", `"not an address"`}},
		{"CRLF in to", "sendmail", map[string]any{"to": []any{"a@example.com\r\nBcc: evil@example.com"}}, []string{"key to", "control character"}},
		{"LF in cc", "smtp", map[string]any{"cc": "a@example.com\nX: y"}, []string{"key cc", "control character"}},
		{"bad bcc", "smtp", map[string]any{"bcc": []any{"@"}}, []string{"key bcc"}},
		{"missing from", "smtp", map[string]any{"from": nil}, []string{"key from", "required"}},
		{"two from", "sendmail", map[string]any{"from": "a@example.com, b@example.com"}, []string{"key from", "one address"}},
		{"unknown key", "sendmail", map[string]any{"recipients": "x@example.com"}, []string{"recipients"}},
		{"unknown smtp key", "smtp", map[string]any{"server": "x"}, []string{"server"}},
		{"wrong type", "smtp", map[string]any{"port": "many"}, []string{"port"}},
		{"missing host", "smtp", map[string]any{"host": nil}, []string{"key host", "required"}},
		{"bad tls", "smtp", map[string]any{"tls": "ssl"}, []string{"key tls", `"ssl"`, "implicit"}},
		{"bad port", "smtp", map[string]any{"port": 70000}, []string{"key port"}},
		{"user without password", "smtp", map[string]any{"username": "u"}, []string{"key password"}},
		{"missing ca_file", "smtp", map[string]any{"ca_file": "/nonexistent/ca.pem"}, []string{"key ca_file", "/nonexistent/ca.pem"}},
		{"no PEM in ca", "smtp", map[string]any{"ca": "not a certificate"}, []string{"key ca_file (or ca)", "no PEM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := channels.New("admin-mail", tt.kind, base(tt.kind, tt.change))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append([]string{`channel "admin-mail"`}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestEmailSettingsAccepted(t *testing.T) {
	for _, kind := range []string{"sendmail", "smtp"} {
		settings := map[string]any{
			"from": `"Fail2ban on web1" <f2b@example.org>`,
			"to":   "a@example.com, B <b@example.com>", // one string may list several
			"cc":   []any{"c@example.com"},
			"bcc":  []any{"d@example.com"},
		}
		if kind == "smtp" {
			settings["host"] = "mail.example.com"
			settings["timeout"] = "5s"
		} else {
			settings["args"] = []any{"-C", "/etc/msmtprc"}
		}
		ch := newChannel(t, "m", kind, settings)
		if ch.Name() != "m" || ch.Limit() != 0 || !slices.Equal(ch.Formats(), []channels.Format{templates.Text, templates.HTML}) {
			t.Errorf("%s: Name %q, Limit %d, Formats %v", kind, ch.Name(), ch.Limit(), ch.Formats())
		}
		if _, ok := ch.(channels.MessageSender); !ok {
			t.Errorf("%s: not a MessageSender", kind)
		}
	}
}

func TestSMTPMultipartAlternative(t *testing.T) {
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{
		"cc":  []any{"Équipe <team@example.com>"},
		"bcc": []any{"hidden@example.com"},
	}))
	subject := "Rapport — bannis: 3 IP"
	text := "3 bans\nsshd: 203.0.113.7 — 2×\n"
	html := "<p>3 bans</p><ul><li>sshd: 203.0.113.7 — 2×</li></ul>"
	if err := sendMessage(testCtx(t), ch, subject, text, html); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := sink.WaitFor(t, 1, 5*time.Second)
	m := msgs[0]
	if m.From != testFrom {
		t.Errorf("envelope from %q, want %s", m.From, testFrom)
	}
	if want := []string{testTo, "team@example.com", "hidden@example.com"}; !slices.Equal(m.To, want) {
		t.Errorf("envelope to %v, want %v", m.To, want)
	}
	r := parseReceived(t, m.Data)
	checkHeaders(t, r, testTo)
	if cc := r.header.Get("Cc"); !strings.Contains(cc, "team@example.com") {
		t.Errorf("Cc = %q, want team@example.com", cc)
	}
	if strings.Contains(string(m.Data), "hidden@example.com") {
		t.Errorf("the Bcc address appears in the message:\n%s", m.Data)
	}
	if r.subject != subject {
		t.Errorf("subject %q, want %q", r.subject, subject)
	}
	if raw := r.header.Get("Subject"); !strings.HasPrefix(raw, "=?UTF-8?") {
		t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
	}
	if _, ok := r.parts["multipart/alternative"]; !ok {
		t.Fatalf("Content-Type %q, want multipart/alternative", r.header.Get("Content-Type"))
	}
	if got := lf(r.parts["text/plain"]); got != text {
		t.Errorf("text/plain part %q, want %q", got, text)
	}
	if got := lf(r.parts["text/html"]); got != html {
		t.Errorf("text/html part %q, want %q", got, html)
	}
}

func TestSMTPSendIsTextOnly(t *testing.T) {
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	if err := ch.Send(testCtx(t), "Report", "plain body\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	r := parseReceived(t, sink.WaitFor(t, 1, 5*time.Second)[0].Data)
	checkHeaders(t, r, testTo)
	if len(r.parts) != 1 || lf(r.parts["text/plain"]) != "plain body\n" {
		t.Errorf("parts %q, want one text/plain part", r.parts)
	}
}

func TestEmailHeaderInjection(t *testing.T) {
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	for _, subject := range []string{
		"Report\r\nBcc: evil@example.com",
		"Report\nBcc: evil@example.com",
		"Report\rBcc: evil@example.com",
		"Report\r\n\r\nbody starts here",
	} {
		if err := sendMessage(testCtx(t), ch, subject, hostileBody, "<p>x</p>"); err != nil {
			t.Fatalf("send %q: %v", subject, err)
		}
	}
	for _, m := range sink.WaitFor(t, 4, 5*time.Second) {
		r := parseReceived(t, m.Data)
		checkHeaders(t, r, testTo)
		if !slices.Equal(m.To, []string{testTo}) {
			t.Errorf("envelope to %v, want only %s", m.To, testTo)
		}
		if strings.ContainsAny(r.subject, "\r\n") || !strings.HasPrefix(r.subject, "Report ") {
			t.Errorf("subject %q still holds a line break", r.subject)
		}
		if n := r.count("Subject"); n != 1 {
			t.Errorf("%d Subject headers", n)
		}
		head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		if bytes.Contains(head, []byte("evil@")) && !bytes.Contains(head, []byte("Subject: Report Bcc: evil@example.com")) {
			t.Errorf("evil address outside the Subject:\n%s", head)
		}
		if got := lf(r.parts["text/plain"]); got != lf(hostileBody) {
			t.Errorf("body %q, want %q", got, lf(hostileBody))
		}
	}
}

func TestSMTPAuth(t *testing.T) {
	const user, password = "f2b", "c0rrect-H0rse-pa55"
	sink := smtpsink.Start(t, smtpsink.WithAuth(user, password))

	ok := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{"username": user, "password": password}))
	if err := ok.Send(testCtx(t), "Report", "body"); err != nil {
		t.Fatalf("send with the right password: %v", err)
	}
	if m := sink.WaitFor(t, 1, 5*time.Second)[0]; m.User != user {
		t.Errorf("authenticated as %q, want %q", m.User, user)
	}

	const wrong = "wr0ng-Secret-passw0rd"
	bad := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{"username": user, "password": wrong}))
	err := bad.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("send with a wrong password: no error")
	}
	t.Logf("wrong password: %v", err)
	for _, w := range []string{`channel "admin-mail"`, sink.Addr(), "535"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
		t.Errorf("error holds the password: %v", err)
	}

	none := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	if err := none.Send(testCtx(t), "Report", "body"); err == nil {
		t.Error("send without AUTH to a server that requires it: no error")
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("sink holds %d messages, want 1", n)
	}
}

func TestSMTPPasswordFile(t *testing.T) {
	const user, password = "f2b", "fr0m-a-File-secret"
	sink := smtpsink.Start(t, smtpsink.WithAuth(user, password))
	file := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(file, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{"username": user, "password_file": file}))
	if err := ch.Send(testCtx(t), "Report", "body"); err != nil {
		t.Fatalf("send: %v", err)
	}
	sink.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert := smtpsink.SelfSignedCert(t)
	const user, password = "f2b", "tls-Only-secret"
	sink := smtpsink.Start(t, smtpsink.WithImplicitTLS(cert.Server), smtpsink.WithAuth(user, password))
	tlsSettings := map[string]any{"tls": "implicit", "username": user, "password": password}

	for name, extra := range map[string]map[string]any{
		"ca_file":              {"ca_file": cert.CAFile},
		"ca inline":            {"ca": string(cert.PEM)},
		"insecure_skip_verify": {"insecure_skip_verify": true},
	} {
		t.Run(name, func(t *testing.T) {
			settings := smtpSettings(sink, tlsSettings)
			for k, v := range extra {
				settings[k] = v
			}
			before := len(sink.Messages())
			ch := newChannel(t, "admin-mail", "smtp", settings)
			if err := sendMessage(testCtx(t), ch, "Report", "text", "<p>html</p>"); err != nil {
				t.Fatalf("send: %v", err)
			}
			m := sink.WaitFor(t, before+1, 5*time.Second)[before]
			if !m.TLS || m.User != user {
				t.Errorf("TLS %v, user %q; want TLS as %q", m.TLS, m.User, user)
			}
		})
	}

	t.Run("unknown CA", func(t *testing.T) {
		ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, tlsSettings))
		err := ch.Send(testCtx(t), "Report", "text")
		t.Logf("unknown CA: %v", err)
		if err == nil || !strings.Contains(err.Error(), `channel "admin-mail"`) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("error %v, want one about the certificate naming the channel", err)
		}
	})
}

func TestSMTPStartTLS(t *testing.T) {
	cert := smtpsink.SelfSignedCert(t)
	const user, password = "f2b", "starttls-Secret"
	sink := smtpsink.Start(t, smtpsink.WithSTARTTLS(cert.Server), smtpsink.WithAuth(user, password))
	for _, mode := range []string{"starttls", "starttls-opportunistic"} {
		ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{
			"tls": mode, "ca_file": cert.CAFile, "username": user, "password": password, "helo": "web1.example.org",
		}))
		if err := sendMessage(testCtx(t), ch, "Report", "text", "<p>html</p>"); err != nil {
			t.Fatalf("%s: send: %v", mode, err)
		}
	}
	for _, m := range sink.WaitFor(t, 2, 5*time.Second) {
		if !m.TLS || m.User != user {
			t.Errorf("TLS %v, user %q; want TLS as %q", m.TLS, m.User, user)
		}
	}

	plain := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(plain, map[string]any{"tls": "starttls"}))
	err := ch.Send(testCtx(t), "Report", "text")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), `channel "admin-mail"`) {
		t.Errorf("tls: starttls to a server without STARTTLS: error %v, want one naming STARTTLS and the channel", err)
	}
	if n := len(plain.Messages()); n != 0 {
		t.Errorf("message sent in clear despite tls: starttls")
	}
}

func TestSMTPServerDown(t *testing.T) {
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	sink.Stop()
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("send to a stopped server: no error")
	}
	t.Logf("server down: %v", err)
	for _, w := range []string{`channel "admin-mail"`, sink.Addr(), "refused"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	sink.Restart(t)
	if err := ch.Send(testCtx(t), "Report", "body"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	sink.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPDataRejected(t *testing.T) {
	sink := smtpsink.Start(t)
	sink.Fail(smtpsink.StageData, 451, "try again later")
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil || !strings.Contains(err.Error(), "451") || !strings.Contains(err.Error(), `channel "admin-mail"`) {
		t.Fatalf("error %v, want a 451 naming the channel", err)
	}
	t.Logf("DATA refused: %v", err)
	var se *gomail.SendError
	if !errors.As(err, &se) || !se.IsTemp() {
		t.Errorf("error %v: want a temporary *gomail.SendError inside", err)
	}
	sink.Fail(smtpsink.StageData, 0, "")
	if err := ch.Send(testCtx(t), "Report", "body"); err != nil {
		t.Fatalf("send once the server accepts: %v", err)
	}
}

func TestSMTPContextDeadline(t *testing.T) {
	addr := smtpsink.Blackhole(t)
	host, port, _ := strings.Cut(addr, ":")
	ch := newChannel(t, "admin-mail", "smtp", map[string]any{
		"host": host, "port": port, "from": testFrom, "to": testTo, "tls": "none",
		"timeout": "1m", // the context must win
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ch.Send(ctx, "Report", "body")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("send to a server that never answers: no error")
	}
	t.Logf("after %s: %v", elapsed, err)
	if elapsed > 2*time.Second {
		t.Errorf("send returned after %s, want about 300ms", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v: want context.DeadlineExceeded inside", err)
	}
	// It says what happened, not how the closed connection failed.
	if want := `channel "admin-mail": no answer from ` + addr + ` within 300ms while connecting`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// The channel's own timeout, shorter than the flush's, is said alike.
func TestSMTPTimeoutSaysWhat(t *testing.T) {
	addr := smtpsink.Blackhole(t)
	host, port, _ := strings.Cut(addr, ":")
	ch := newChannel(t, "admin-mail", "smtp", map[string]any{
		"host": host, "port": port, "from": testFrom, "to": testTo, "tls": "none", "timeout": "1s",
	})
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("send to a server that never answers: no error")
	}
	if want := `channel "admin-mail": no answer from ` + addr + ` within 1s while connecting`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// A password for a server that offers no AUTH: the dial worked, and the
// error says what to change.
func TestSMTPPasswordWithoutAuth(t *testing.T) {
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, map[string]any{"username": "f2b", "password": "s3cret-Pass-word"}))
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("send with a password to a server without AUTH: no error")
	}
	want := `channel "admin-mail": the server ` + sink.Addr() + ` does not offer SMTP AUTH; remove the password or use a server that does`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// fakeSendmail writes a script standing in for sendmail, run through
// /bin/sh by the channel's args, that saves its arguments and standard input
// under dir and then runs tail.
func fakeSendmail(t *testing.T, dir, tail string) map[string]any {
	t.Helper()
	script := `printf '%s\n' "$@" > "` + dir + `/argv"; cat > "` + dir + `/stdin"; ` + tail
	return map[string]any{
		"sendmail": "/bin/sh",
		"args":     []any{"-c", script, "fake-sendmail"},
		"from":     testFrom,
		"to":       []any{testTo, "Second <second@example.com>"},
		"bcc":      "hidden@example.com",
	}
}

func TestSendmailCommandLineAndMIME(t *testing.T) {
	dir := t.TempDir()
	sm := newChannel(t, "admin-mail", "sendmail", fakeSendmail(t, dir, "exit 0"))
	if err := sendMessage(testCtx(t), sm, "Rapport — bannis", hostileBody, "<p>html</p>"); err != nil {
		t.Fatalf("send: %v", err)
	}
	argv, err := os.ReadFile(filepath.Join(dir, "argv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-oi", "-f", testFrom, "--", testTo, "second@example.com", "hidden@example.com"}
	if got := strings.Fields(string(argv)); !slices.Equal(got, want) {
		t.Errorf("sendmail arguments after the configured ones: %q, want %q", got, want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	viaSendmail := parseReceived(t, raw)
	checkHeaders(t, viaSendmail, testTo, "second@example.com")

	// The smtp kind builds the same message.
	sink := smtpsink.Start(t)
	settings := fakeSendmail(t, dir, "")
	delete(settings, "sendmail")
	delete(settings, "args")
	sc := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, settings))
	if err := sendMessage(testCtx(t), sc, "Rapport — bannis", hostileBody, "<p>html</p>"); err != nil {
		t.Fatalf("send via smtp: %v", err)
	}
	viaSMTP := parseReceived(t, sink.WaitFor(t, 1, 5*time.Second)[0].Data)
	if !slices.Equal(viaSendmail.headers, viaSMTP.headers) {
		t.Errorf("headers differ:\nsendmail %q\nsmtp     %q", viaSendmail.headers, viaSMTP.headers)
	}
	if len(viaSendmail.parts) != 3 || !maps2Equal(viaSendmail.parts, viaSMTP.parts) {
		t.Errorf("parts differ:\nsendmail %q\nsmtp     %q", viaSendmail.parts, viaSMTP.parts)
	}
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func TestSendmailFailure(t *testing.T) {
	dir := t.TempDir()
	noisy := "i=0; while [ $i -lt 500 ]; do echo 'msmtp: server said no, line' $i >&2; i=$((i+1)); done; exit 75"
	ch := newChannel(t, "admin-mail", "sendmail", fakeSendmail(t, dir, noisy))
	err := ch.Send(testCtx(t), "Report", "body")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`channel "admin-mail": sendmail /bin/sh: exit status 75: msmtp: server said no, line 0; msmtp: server said no, line 1; `, "more bytes]"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if len(err.Error()) > 2000 {
		t.Errorf("error is %d bytes long; sendmail's output must be cut", len(err.Error()))
	}

	missing := newChannel(t, "admin-mail", "sendmail", map[string]any{"sendmail": "/nonexistent/sendmail", "from": testFrom, "to": testTo})
	if err := missing.Send(testCtx(t), "Report", "body"); err == nil || !strings.Contains(err.Error(), `channel "admin-mail": sendmail /nonexistent/sendmail`) {
		t.Errorf("missing program: error %v", err)
	}
}

func TestSendmailContextDeadline(t *testing.T) {
	ch := newChannel(t, "admin-mail", "sendmail", fakeSendmail(t, t.TempDir(), "exec sleep 30"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ch.Send(ctx, "Report", "body")
	elapsed := time.Since(start)
	if elapsed > 3*time.Second {
		t.Errorf("send returned after %s", elapsed)
	}
	t.Logf("after %s: %v", elapsed, err)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `channel "admin-mail"`) {
		t.Errorf("error %v: want context.DeadlineExceeded naming the channel", err)
	}
}
