package channels

// E-mail channels: "sendmail" pipes the message to a local sendmail-compatible
// program, "smtp" talks to a mail server. Both build the message with
// github.com/wneessen/go-mail in one place, emailHeader.build, so both send
// the same MIME: multipart/alternative with a text/plain and a text/html
// part, UTF-8, quoted-printable, and the headers Date, Message-ID and
// Auto-Submitted: auto-generated. With the chart, the HTML alternative is
// multipart/related: the HTML and the picture it shows inline (cid:).
//
// Settings of both kinds:
//
//	to    list of addresses, required (a single string may hold a comma-separated list)
//	from  the sender address, required; also the envelope sender
//	cc    list of addresses, optional
//	bcc   list of addresses, optional; they get the message but appear in no header
//
// Settings of "sendmail":
//
//	sendmail  the program to run, default /usr/sbin/sendmail
//	args      extra arguments placed before the ones f2b-notify adds, e.g. ["-C", "/etc/msmtprc"]
//
// The program is run directly, never through a shell, as
// `sendmail ARGS... -oi -f FROM -- RECIPIENT...` with the message on its
// standard input. Recipients are given on the command line rather than read
// from the headers (-t), so Bcc works and no header can add a recipient.
//
// Settings of "smtp":
//
//	host                  the server, required
//	port                  default 465 for tls: implicit, 587 for tls: starttls, else 25
//	tls                   none | starttls | starttls-opportunistic | implicit; default:
//	                      implicit on port 465, starttls on 587, none when host is the
//	                      loopback, else starttls-opportunistic
//	username, password    SMTP AUTH, optional (password_file works too); the password is
//	                      only sent over TLS or to the loopback
//	helo                  the name given in EHLO, default this host's name
//	ca_file               PEM file of the CAs that may sign the server's certificate,
//	                      instead of the system's; like every KEY_file it is read by
//	                      ResolveFiles and arrives here as ca, which may also be
//	                      given inline as PEM text
//	insecure_skip_verify  do not check the server's certificate (self-signed test
//	                      servers only); default false
//	timeout               per network operation, default 30s; the caller's context
//	                      bounds the whole send (the configuration file's per-channel
//	                      timeout is that context and does not reach this setting)

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

const (
	// emailDefaultSendmail is the program the sendmail kind runs by default.
	emailDefaultSendmail = "/usr/sbin/sendmail"
	// emailDefaultTimeout bounds each network operation of the smtp kind.
	emailDefaultTimeout = 30 * time.Second
	// emailStderrMax is how much of sendmail's output an error quotes.
	emailStderrMax = 1024
	// emailUserAgent names the program in the User-Agent and X-Mailer headers.
	emailUserAgent = "f2b-notify"
)

// emailSettings are the settings both e-mail kinds share.
type emailSettings struct {
	To   []string `mapstructure:"to"`
	Cc   []string `mapstructure:"cc"`
	Bcc  []string `mapstructure:"bcc"`
	From string   `mapstructure:"from"`
}

// emailHeader holds the validated addresses of an e-mail channel and builds
// its messages.
type emailHeader struct {
	name string
	from *mail.Address
	to   []*mail.Address
	cc   []*mail.Address
	bcc  []*mail.Address
}

// newEmailHeader validates the addresses of channel name.
func newEmailHeader(name string, s emailSettings) (emailHeader, error) {
	h := emailHeader{name: name}
	if strings.TrimSpace(s.From) == "" {
		return h, fmt.Errorf("channel %q: key from: required", name)
	}
	from, err := emailParseList(name, "from", []string{s.From})
	if err != nil {
		return h, err
	}
	if len(from) != 1 {
		return h, fmt.Errorf("channel %q: key from: want one address, got %d", name, len(from))
	}
	h.from = from[0]
	if h.to, err = emailParseList(name, "to", s.To); err != nil {
		return h, err
	}
	if len(h.to) == 0 {
		return h, fmt.Errorf("channel %q: key to: at least one address is required", name)
	}
	if h.cc, err = emailParseList(name, "cc", s.Cc); err != nil {
		return h, err
	}
	if h.bcc, err = emailParseList(name, "bcc", s.Bcc); err != nil {
		return h, err
	}
	return h, nil
}

// emailParseList parses the addresses under key; each entry may itself be a
// comma-separated list. Control characters (CR, LF, ...) are refused outright.
func emailParseList(name, key string, entries []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, e := range entries {
		if strings.IndexFunc(e, textutil.IsASCIIControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key %s: address %q contains a control character (line break?)", name, key, e)
		}
		if strings.TrimSpace(e) == "" {
			return nil, fmt.Errorf("channel %q: key %s: empty address", name, key)
		}
		list, err := mail.ParseAddressList(e)
		if err != nil {
			return nil, fmt.Errorf("channel %q: key %s: invalid address %q: %w", name, key, e, err)
		}
		out = append(out, list...)
	}
	return out, nil
}

// emailCleanSubject makes subject safe for a header: every run of control
// characters (CR and LF included) becomes one space. go-mail then encodes
// what is not plain ASCII (RFC 2047).
func emailCleanSubject(subject string) string {
	var b strings.Builder
	space := false
	for _, r := range subject {
		if textutil.IsASCIIControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// build returns the message for m: one part per body among text and HTML,
// multipart/alternative when both are given. It is the one place that shapes
// e-mail, for every e-mail kind.
//
// The chart goes inside the HTML alternative, which becomes
// multipart/related (the HTML, then the picture with its Content-ID), so
// that a reader of the text part is not given a picture the text does not
// show. Every other attachment, and the chart when there is no HTML part to
// show it, is a file attached to the message (multipart/mixed).
func (h emailHeader) build(m Message) (*gomail.Msg, error) {
	text, hasText := m.Bodies[templates.Text]
	html, hasHTML := m.Bodies[templates.HTML]
	if !hasText && !hasHTML {
		return nil, fmt.Errorf("channel %q: build e-mail: no text or html body", h.name)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(h.from)
	msg.ToMailAddress(h.to...)
	if len(h.cc) > 0 {
		msg.CcMailAddress(h.cc...)
	}
	if len(h.bcc) > 0 {
		msg.BccMailAddress(h.bcc...)
	}
	msg.Subject(emailCleanSubject(m.Subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(emailMessageID(h.from))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent(emailUserAgent)
	var inline *Attachment
	var files []Attachment
	for i, a := range m.Attachments {
		if a.Kind == Chart && hasHTML && inline == nil {
			inline = &m.Attachments[i]
			continue
		}
		files = append(files, a)
	}
	switch {
	case hasText && hasHTML && inline != nil:
		msg.SetBodyString(gomail.TypeTextPlain, text)
		ct, write := emailRelated(html, *inline)
		msg.AddAlternativeWriter(ct, write, gomail.WithPartEncoding(gomail.NoEncoding))
	case hasText && hasHTML:
		msg.SetBodyString(gomail.TypeTextPlain, text)
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	case hasText:
		msg.SetBodyString(gomail.TypeTextPlain, text)
	case inline != nil:
		ct, write := emailRelated(html, *inline)
		msg.SetBodyWriter(ct, write, gomail.WithPartEncoding(gomail.NoEncoding))
	default:
		msg.SetBodyString(gomail.TypeTextHTML, html)
	}
	for _, a := range files {
		opts := []gomail.FileOption{gomail.WithFileContentType(gomail.ContentType(a.Type))}
		if a.Caption != "" {
			opts = append(opts, gomail.WithFileDescription(a.Caption))
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), opts...); err != nil {
			return nil, fmt.Errorf("channel %q: build e-mail: attach %s: %w", h.name, a.Name, err)
		}
	}
	return msg, nil
}

// emailRelated is the HTML alternative with the chart it shows inline: the
// Content-Type of a multipart/related part and the function that writes
// its body, the HTML (quoted-printable) and then the picture (base64) with
// the Content-ID the HTML's cid: names (ContentID). go-mail would put the
// picture beside the whole multipart/alternative, the text part included;
// this nests it inside the HTML alternative, as mail clients do. The body
// is 7-bit text; the part is declared 8bit because go-mail encodes any other
// declared encoding once more (and adds a charset parameter, which a
// multipart type ignores).
func emailRelated(html string, img Attachment) (gomail.ContentType, func(io.Writer) (int64, error)) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	ct := gomail.ContentType(mime.FormatMediaType("multipart/related", map[string]string{"boundary": boundary, "type": "text/html"}))
	write := func(w io.Writer) (int64, error) {
		cw := &emailCountingWriter{w: w}
		mw := multipart.NewWriter(cw)
		if err := mw.SetBoundary(boundary); err != nil {
			return cw.n, err
		}
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {"text/html; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return cw.n, err
		}
		qp := quotedprintable.NewWriter(part)
		if _, err := io.WriteString(qp, html); err != nil {
			return cw.n, err
		}
		if err := qp.Close(); err != nil {
			return cw.n, err
		}
		name := mime.QEncoding.Encode("utf-8", img.Name)
		header := textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(img.Type, map[string]string{"name": name})},
			"Content-Transfer-Encoding": {"base64"},
			"Content-ID":                {"<" + ContentID(img) + ">"},
			"Content-Disposition":       {mime.FormatMediaType("inline", map[string]string{"filename": name})},
		}
		if img.Caption != "" {
			header["Content-Description"] = []string{mime.QEncoding.Encode("utf-8", img.Caption)}
		}
		if part, err = mw.CreatePart(header); err != nil {
			return cw.n, err
		}
		if err := emailBase64(part, img.Data); err != nil {
			return cw.n, err
		}
		return cw.n, mw.Close()
	}
	return ct, write
}

// emailBase64 writes data in base64, in lines of 76 characters (RFC 2045).
func emailBase64(w io.Writer, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}

// emailCountingWriter counts the bytes written through it.
type emailCountingWriter struct {
	w io.Writer
	n int64
}

func (c *emailCountingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// emailMessageID returns a new Message-ID value (without the angle brackets):
// 128 random bits in hex, at this host's name, or at from's domain when the
// host name is not fit for a header.
func emailMessageID(from *mail.Address) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	domain, err := os.Hostname()
	if err != nil || domain == "" || strings.IndexFunc(domain, emailNotHostChar) >= 0 {
		_, domain, _ = strings.Cut(from.Address, "@")
	}
	return hex.EncodeToString(b[:]) + "@" + domain
}

func emailNotHostChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
}

// recipients lists the envelope recipients: to, cc and bcc.
func (h emailHeader) recipients() []string {
	var out []string
	for _, list := range [][]*mail.Address{h.to, h.cc, h.bcc} {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// emailChannel is what both e-mail kinds share: name, formats, and the way
// Send and SendMessage turn into one delivery.
type emailChannel struct {
	emailHeader
	deliver func(ctx context.Context, msg *gomail.Msg) error
	program string // sendmail: the program it runs
}

// Program returns the program a sendmail channel runs ("" for smtp).
func (c *emailChannel) Program() (path, key string) { return c.program, "sendmail" }

// Check implements Checker: a sendmail channel's program exists and can be
// run. An smtp channel has nothing to look at without connecting.
func (c *emailChannel) Check() error {
	if c.program == "" {
		return nil
	}
	st, err := os.Stat(c.program)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("channel %q: key sendmail: %s does not exist; install a mail server that provides it (such as postfix, exim4 or msmtp-mta), or set sendmail to the program's path", c.name, c.program)
	case err != nil:
		return fmt.Errorf("channel %q: key sendmail: %w", c.name, err)
	case st.IsDir() || !st.Mode().IsRegular():
		return fmt.Errorf("channel %q: key sendmail: %s is %s, not a program", c.name, c.program, fsguard.Kind(st.Mode()))
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("channel %q: key sendmail: %s cannot be run: it is not executable (mode %04o)", c.name, c.program, st.Mode().Perm())
	}
	return nil
}

// Name returns the channel's key in the configuration.
func (c *emailChannel) Name() string { return c.name }

// Formats returns text and HTML: the parts of a multipart/alternative mail.
func (c *emailChannel) Formats() []Format { return emailFormats }

// emailFormats are what e-mail renders: the text part, then the HTML one.
var emailFormats = []Format{Text, HTML}

// Limit returns 0: e-mail has no practical size limit for a digest. So
// that no offender row is ever cut from it (report.max_offenders aside),
// and the full list, which goes only with a message that was cut, never
// goes with an e-mail.
func (c *emailChannel) Limit() int { return 0 }

// Attaches implements Attacher: an e-mail carries the chart, inline in its
// HTML part, and the full list as an attached file.
func (c *emailChannel) Attaches(k AttachmentKind) bool { return k == Chart || k == FullList }

// Send delivers a text-only message.
func (c *emailChannel) Send(ctx context.Context, subject, body string) error {
	return c.SendMessage(ctx, Message{Subject: subject, Bodies: map[Format]string{templates.Text: body}})
}

// SendMessage delivers m with its text and HTML bodies as alternatives.
func (c *emailChannel) SendMessage(ctx context.Context, m Message) error {
	msg, err := c.build(m)
	if err != nil {
		return err
	}
	return c.deliver(ctx, msg)
}

// Payload implements Payloader: the MIME message that would be sent for m,
// as sendmail reads it or the SMTP server is given it (its Date and
// Message-ID are made anew at each sending).
func (c *emailChannel) Payload(m Message) ([]byte, error) {
	msg, err := c.build(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("channel %q: write e-mail: %w", c.name, err)
	}
	return b.Bytes(), nil
}

// sendmailSettings are the settings of the sendmail kind.
type sendmailSettings struct {
	emailSettings `mapstructure:",squash"`
	Sendmail      string   `mapstructure:"sendmail"`
	Args          []string `mapstructure:"args"`
}

// newSendmail builds a channel that pipes mail to a local sendmail program.
func newSendmail(name string, settings map[string]any) (Channel, error) {
	var s sendmailSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	h, err := newEmailHeader(name, s.emailSettings)
	if err != nil {
		return nil, err
	}
	path := s.Sendmail
	if path == "" {
		path = emailDefaultSendmail
	}
	if strings.IndexFunc(path, textutil.IsASCIIControl) >= 0 {
		return nil, fmt.Errorf("channel %q: key sendmail: %q contains a control character", name, path)
	}
	args := append([]string(nil), s.Args...)
	c := &emailChannel{emailHeader: h, program: path}
	c.deliver = func(ctx context.Context, msg *gomail.Msg) error {
		return sendmailDeliver(ctx, h, path, args, msg)
	}
	return c, nil
}

// sendmailDeliver runs `path args... -oi -f FROM -- RECIPIENTS...` (no shell)
// with the message on its standard input. A failure quotes the exit status and
// the start of what the program wrote.
func sendmailDeliver(ctx context.Context, h emailHeader, path string, args []string, msg *gomail.Msg) error {
	// The message goes to sendmail from an unlinked file, not a pipe: if this
	// process is killed mid-send, sendmail still reads the whole message
	// instead of a cut one that it would deliver.
	stdin, err := os.CreateTemp("", "f2b-notify-mail-*")
	if err != nil {
		return fmt.Errorf("channel %q: write e-mail: %w", h.name, err)
	}
	os.Remove(stdin.Name())
	defer stdin.Close()
	if _, err := msg.WriteTo(stdin); err != nil {
		return fmt.Errorf("channel %q: write e-mail: %w", h.name, err)
	}
	if _, err := stdin.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("channel %q: write e-mail: %w", h.name, err)
	}
	argv := append(append([]string(nil), args...), "-oi", "-f", h.from.Address, "--")
	argv = append(argv, h.recipients()...)
	cmd := exec.CommandContext(ctx, path, argv...)
	cmd.Stdin = stdin
	out := &emailBoundedBuffer{max: emailStderrMax}
	cmd.Stdout = out
	cmd.Stderr = out
	// A child that keeps our pipes open must not hold the flush past its deadline.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	detail := out.String()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if detail != "" {
		return fmt.Errorf("channel %q: sendmail %s: %w: %s", h.name, path, err, detail)
	}
	return fmt.Errorf("channel %q: sendmail %s: %w", h.name, path, err)
}

// emailBoundedBuffer keeps the first max bytes written to it and counts the rest.
type emailBoundedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int
}

func (b *emailBoundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - len(b.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += len(p) - room
	return len(p), nil
}

// String returns the kept output on one line, its lines separated by "; ",
// noting how much was cut.
func (b *emailBoundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(strings.ToValidUTF8(string(b.buf), "?"), "\n") {
		if l = textutil.OneLine(l); l != "" {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, "; ")
	if b.dropped > 0 {
		s += fmt.Sprintf(" [%d more bytes]", b.dropped)
	}
	return s
}

// TLS modes of the smtp kind.
const (
	smtpTLSNone          = "none"
	smtpTLSStartTLS      = "starttls"
	smtpTLSOpportunistic = "starttls-opportunistic"
	smtpTLSImplicit      = "implicit"
)

// smtpSettings are the settings of the smtp kind.
type smtpSettings struct {
	emailSettings      `mapstructure:",squash"`
	Host               string        `mapstructure:"host"`
	Port               int           `mapstructure:"port"`
	TLS                string        `mapstructure:"tls"`
	Username           string        `mapstructure:"username"`
	Password           string        `mapstructure:"password"`
	HELO               string        `mapstructure:"helo"`
	CA                 string        `mapstructure:"ca"`
	InsecureSkipVerify bool          `mapstructure:"insecure_skip_verify"`
	Timeout            time.Duration `mapstructure:"timeout"`
}

// smtpConfig is a validated smtp channel configuration.
type smtpConfig struct {
	host, addr string
	port       int
	mode       string
	username   string
	password   string
	helo       string
	timeout    time.Duration
	tls        *tls.Config
}

// newSMTP builds a channel that sends through an SMTP server. It does no
// network I/O.
func newSMTP(name string, settings map[string]any) (Channel, error) {
	var s smtpSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	h, err := newEmailHeader(name, s.emailSettings)
	if err != nil {
		return nil, err
	}
	cfg, err := smtpValidate(name, s)
	if err != nil {
		return nil, err
	}
	c := &emailChannel{emailHeader: h}
	c.deliver = func(ctx context.Context, msg *gomail.Msg) error {
		return smtpDeliver(ctx, name, cfg, msg)
	}
	return c, nil
}

// smtpValidate checks the settings of the smtp kind and fills in defaults.
func smtpValidate(name string, s smtpSettings) (*smtpConfig, error) {
	cfg := &smtpConfig{
		host:     strings.TrimSpace(s.Host),
		username: s.Username,
		password: s.Password,
		helo:     s.HELO,
		timeout:  s.Timeout,
		mode:     s.TLS,
		port:     s.Port,
	}
	if cfg.host == "" {
		return nil, fmt.Errorf("channel %q: key host: required", name)
	}
	if strings.ContainsAny(cfg.host, "/ \t\r\n") {
		return nil, fmt.Errorf("channel %q: key host: %q is not a host name or address", name, cfg.host)
	}
	if strings.IndexFunc(cfg.helo, textutil.IsASCIIControl) >= 0 || strings.Contains(cfg.helo, " ") {
		return nil, fmt.Errorf("channel %q: key helo: %q is not a host name", name, cfg.helo)
	}
	switch cfg.mode {
	case "":
		switch {
		case cfg.port == 465:
			cfg.mode = smtpTLSImplicit
		case cfg.port == 587:
			cfg.mode = smtpTLSStartTLS
		case smtpIsLoopback(cfg.host):
			cfg.mode = smtpTLSNone
		default:
			cfg.mode = smtpTLSOpportunistic
		}
	case smtpTLSNone, smtpTLSStartTLS, smtpTLSOpportunistic, smtpTLSImplicit:
	default:
		return nil, fmt.Errorf("channel %q: key tls: %q is not one of %s, %s, %s, %s",
			name, cfg.mode, smtpTLSNone, smtpTLSStartTLS, smtpTLSOpportunistic, smtpTLSImplicit)
	}
	if cfg.port == 0 {
		switch {
		case cfg.mode == smtpTLSImplicit:
			cfg.port = 465
		case cfg.mode == smtpTLSStartTLS:
			cfg.port = 587
		default:
			cfg.port = 25
		}
	}
	if cfg.port < 1 || cfg.port > 65535 {
		return nil, fmt.Errorf("channel %q: key port: %d is not a port number", name, cfg.port)
	}
	cfg.addr = net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	if cfg.timeout == 0 {
		cfg.timeout = emailDefaultTimeout
	}
	if cfg.timeout < 0 {
		return nil, fmt.Errorf("channel %q: key timeout: %s is negative", name, cfg.timeout)
	}
	if cfg.username == "" && cfg.password != "" {
		return nil, fmt.Errorf("channel %q: key password: set, but username is empty", name)
	}
	if cfg.username != "" && cfg.password == "" {
		return nil, fmt.Errorf("channel %q: key password (or password_file): required with username", name)
	}
	cfg.tls = &tls.Config{
		ServerName:         cfg.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.InsecureSkipVerify, //nolint:gosec // opt-in, documented for self-signed test servers
	}
	if s.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.CA)) {
			return nil, fmt.Errorf("channel %q: key ca_file (or ca): no PEM certificate found", name)
		}
		cfg.tls.RootCAs = pool
	}
	return cfg, nil
}

// smtpIsLoopback reports whether host names this machine's loopback.
func smtpIsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// smtpAuthPreference is the order SMTP AUTH mechanisms are tried in. PLAIN
// and LOGIN refuse to run without TLS unless the server is the loopback.
var smtpAuthPreference = []gomail.SMTPAuthType{
	gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
	gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
}

// smtpDeliver sends msg in one SMTP session. The connection is closed as soon
// as ctx is done, so a server that stops answering cannot hold the caller.
func smtpDeliver(ctx context.Context, name string, cfg *smtpConfig, msg *gomail.Msg) error {
	var (
		mu    sync.Mutex
		stops []func() bool
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		mu.Lock()
		stops = append(stops, stop)
		mu.Unlock()
		if cfg.mode != smtpTLSImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, cfg.tls.Clone())
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return tc, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.port),
		gomail.WithTimeout(cfg.timeout),
		gomail.WithTLSConfig(cfg.tls.Clone()),
		gomail.WithDialContextFunc(dial),
	}
	switch cfg.mode {
	case smtpTLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case smtpTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default: // none, or implicit: TLS is done by dial
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.helo != "" {
		opts = append(opts, gomail.WithHELO(cfg.helo))
	}
	if cfg.username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(smtpAuthPreference...),
			gomail.WithUsername(cfg.username),
			gomail.WithPassword(cfg.password))
	}
	client, err := gomail.NewClient(cfg.host, opts...)
	if err != nil {
		return smtpError(name, cfg, fmt.Errorf("set up client: %w", err))
	}
	start := time.Now()
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	return smtpExplain(ctx, name, cfg, start, err)
}

// smtpNoAuth is go-mail's error when a password is configured and the
// server offers no SMTP AUTH.
const smtpNoAuth = "server does not support SMTP AUTH"

// smtpExplain says what went wrong in a session begun at start: a server
// that did not answer in time, and in which step; one that offers no AUTH
// to a configured password; else go-mail's error, which names the step
// ("dial failed: ...", connecting, greeting and AUTH included, or "send
// failed: ..."). The cause stays wrapped, for errors.Is and errors.As.
func smtpExplain(ctx context.Context, name string, cfg *smtpConfig, start time.Time, err error) error {
	step := "while connecting"
	if strings.HasPrefix(err.Error(), "send failed") {
		step = "while sending the message"
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
		// The closed connection's own errors ("use of closed network
		// connection") say nothing more.
		bound := cfg.timeout
		if ctx.Err() != nil {
			bound = time.Since(start)
			if dl, ok := ctx.Deadline(); ok && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				bound = dl.Sub(start)
			}
			err = errors.Join(ctx.Err(), err)
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			return smtpErrorf(name, cfg, err, "no answer from %s within %s %s", cfg.addr, roundBound(bound), step)
		}
		return smtpErrorf(name, cfg, err, "stopped %s to %s", step, cfg.addr)
	case cfg.username != "" && strings.Contains(err.Error(), smtpNoAuth):
		return smtpErrorf(name, cfg, err, "the server %s does not offer SMTP AUTH; remove the password or use a server that does", cfg.addr)
	}
	return smtpError(name, cfg, err)
}

// roundBound rounds a wait for a person: whole seconds, or tens of
// milliseconds below one second.
func roundBound(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// smtpErrorf is an error of the channel in words of its own (which name the
// server), wrapping err.
func smtpErrorf(name string, cfg *smtpConfig, err error, format string, args ...any) error {
	return &emailRedactedError{msg: fmt.Sprintf("channel %q: ", name) + fmt.Sprintf(format, args...), err: err}
}

// smtpError names the channel and server and removes the password from err's
// text, keeping err for errors.Is and errors.As.
func smtpError(name string, cfg *smtpConfig, err error) error {
	msg := fmt.Sprintf("channel %q: smtp %s: %v", name, cfg.addr, err)
	if cfg.password != "" {
		msg = strings.ReplaceAll(msg, cfg.password, "[redacted]")
	}
	return &emailRedactedError{msg: msg, err: err}
}

// emailRedactedError carries a cause whose text may hold a secret; its own
// text has the secret removed.
type emailRedactedError struct {
	msg string
	err error
}

func (e *emailRedactedError) Error() string { return e.msg }
func (e *emailRedactedError) Unwrap() error { return e.err }

var (
	_ MessageSender = (*emailChannel)(nil)
	_ Attacher      = (*emailChannel)(nil)
)
