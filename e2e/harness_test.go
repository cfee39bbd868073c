//go:build integration

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/f2btest"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// The binaries under test, built once by TestMain into one folder: f2b-notify,
// and the lean f2b-notify-ban beside it, which action.d/jail.local.example
// has record the bans (it starts the f2b-notify beside it to flush).
var f2bNotify, f2bNotifyBan string

// wait bounds every wait for something fail2ban or a flush does.
const wait = 20 * time.Second

// TestMain runs the tests through testenv.Main: only the configuration files
// the tests write decide, in fail2ban's action commands too (fail2ban passes
// its environment on to them).
func TestMain(m *testing.M) {
	os.Exit(testenv.Main(func() int { return testMain(m) }))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "f2bn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	f2bNotify = filepath.Join(dir, "f2b-notify")
	f2bNotifyBan = filepath.Join(dir, "f2b-notify-ban")
	for _, out := range []string{f2bNotify, f2bNotifyBan} {
		if err := testenv.Build(out, "github.com/f2b-notify/f2b-notify/cmd/"+filepath.Base(out)); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return m.Run()
}

// banBinary is a program the action's f2b_notify_ban can name.
type banBinary struct{ name, path string }

// banBinaries returns both: the lean f2b-notify-ban, as
// action.d/jail.local.example installs it, and f2b-notify itself, the action
// file's default. Tests of the ban path run with each.
func banBinaries() []banBinary {
	return []banBinary{{"f2b-notify-ban", f2bNotifyBan}, {"f2b-notify", f2bNotify}}
}

// rig is one test's world: a private fail2ban-server whose jail [sshd] runs
// the shipped action file with the built binary, a configuration with one
// sendmail channel (msmtp) relaying to an SMTP sink, and a folder holding
// the configuration, buffer and flag.
type rig struct {
	t      *testing.T
	dir    string
	config string
	bufDir string
	flag   string
	msmtp  string
	smtp   string // the address msmtp sends to: the sink's, or its relay's
	sink   *smtpsink.Sink
	srv    *f2btest.Server
}

// eachBanBinary runs test as a parallel subtest with each of banBinaries.
func eachBanBinary(t *testing.T, test func(t *testing.T, ban string)) {
	t.Parallel()
	for _, b := range banBinaries() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.path)
		})
	}
}

type rigOptions struct {
	// ban is the program that records bans (f2b_notify_ban); default the
	// lean f2b-notify-ban, as action.d/jail.local.example has it.
	ban string
	// relay, when set, wraps the sink's address (e.g. slowRelay) before
	// msmtp is pointed at it.
	relay func(t *testing.T, addr string) string
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	f2btest.NeedFail2ban(t)
	r := &rig{t: t, dir: f2btest.TempDir(t)}
	r.msmtp = testenv.NeedCommand(t, "msmtp", "msmtp")
	r.sink = smtpsink.Start(t)
	// Cleanups run last first: the server stops (its actionstop may mail),
	// then every process of ours is gone, then the sink stops.
	reapAfter(t, r.dir)
	r.smtp = r.sink.Addr()
	if o.relay != nil {
		r.smtp = o.relay(t, r.smtp)
	}
	r.bufDir = filepath.Join(r.dir, "buf")
	r.flag = filepath.Join(r.dir, "mail.flag")
	r.config = writeConfig(t, r.dir, r.bufDir, r.flag, r.msmtp, r.smtp)
	if o.ban == "" {
		o.ban = f2bNotifyBan
	}
	// The jail's action as jail.local.example writes it, without the firewall.
	jail := map[string]string{"action": fmt.Sprintf(`f2b-notify[f2b_notify="%s", f2b_notify_ban="%s", config="%s"]`,
		f2bNotify, o.ban, r.config)}
	r.srv = f2btest.Start(t, f2btest.Options{BinPath: f2bNotify, ConfigPath: r.config, Jail: jail})
	return r
}

// writeConfig writes dir/config.yaml and dir/msmtprc: one sendmail channel,
// admin-mail, that runs msmtp to the SMTP server at addr.
func writeConfig(t *testing.T, dir, bufDir, flag, msmtp, addr string) string {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	rc := testenv.MsmtpConfig(t, dir, host, port)
	cfg := fmt.Sprintf(`buffer:
  dir: %q
  fsync: true
flag: %q
host: e2e.example.org
report:
  timezone: UTC
channels:
  admin-mail:
    type: sendmail
    to: [root@localhost]
    from: fail2ban@e2e.example.org
    sendmail: %q
    args: ["-C", %q]
    timeout: 20s
`, bufDir, flag, msmtp, rc)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// attack writes one failed sshd login from ip per user (at least two: the
// jail's maxretry) and waits until fail2ban has banned ip. It returns the
// log lines written.
func (r *rig) attack(ip string, users ...string) []string {
	r.t.Helper()
	var lines []string
	for _, u := range users {
		lines = append(lines, r.srv.Attack(0, ip, u))
	}
	if err := r.srv.WaitBanned(f2btest.Jail, ip, wait); err != nil {
		r.t.Fatalf("%v\n%s", err, r.srv.Log())
	}
	return lines
}

// result is how a run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

func (res result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
}

// run runs the binary with --config config and args, in testenv.Env.
func run(t *testing.T, config string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f2bNotify, append([]string{"--config", config}, args...)...)
	cmd.Env = testenv.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return res
}

// flush runs `f2b-notify flush -v` and requires it to succeed; it returns
// what the flush says it did.
func (r *rig) flush() string {
	r.t.Helper()
	res := run(r.t, r.config, "flush", "-v")
	if res.code != 0 {
		r.t.Fatalf("flush: %v", res)
	}
	return res.stdout
}

// records returns the records waiting in dir's pending.jsonl; a damaged line
// fails the test.
func records(t *testing.T, bufDir string) []*buffer.Record {
	t.Helper()
	var out []*buffer.Record
	st, err := buffer.ScanFile(filepath.Join(bufDir, buffer.PendingFile), func(r *buffer.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Torn != 0 {
		t.Fatalf("%s: %d damaged lines", bufDir, st.Torn)
	}
	return out
}

// waitRecords waits until n records are pending and returns them.
func (r *rig) waitRecords(n int) []*buffer.Record {
	r.t.Helper()
	var got []*buffer.Record
	if err := f2btest.WaitFor(wait, func() bool {
		got = records(r.t, r.bufDir)
		return len(got) >= n
	}); err != nil {
		r.t.Fatalf("want %d pending records, have %d: %s\n%s", n, len(got), dump(got), r.srv.Log())
	}
	if len(got) != n {
		r.t.Fatalf("want %d pending records, have %d: %s", n, len(got), dump(got))
	}
	return got
}

// byIP indexes records by address; two records of one address fail the test.
func byIP(t *testing.T, recs []*buffer.Record) map[string]*buffer.Record {
	t.Helper()
	out := map[string]*buffer.Record{}
	for _, r := range recs {
		if out[r.IP] != nil {
			t.Fatalf("two records of %s: %s", r.IP, dump(recs))
		}
		out[r.IP] = r
	}
	return out
}

func dump(recs []*buffer.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\n  %+v", *r)
	}
	return b.String()
}

// batches returns the spool's batches.
func batches(t *testing.T, bufDir string) []buffer.Batch {
	t.Helper()
	bs, err := buffer.New(bufDir, false).Batches()
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// requireDrained fails the test unless nothing is pending or spooled.
func requireDrained(t *testing.T, bufDir string) {
	t.Helper()
	if recs := records(t, bufDir); len(recs) != 0 {
		t.Errorf("%d records still pending: %s", len(recs), dump(recs))
	}
	if bs := batches(t, bufDir); len(bs) != 0 {
		t.Errorf("%d batches still in the spool: %v", len(bs), bs)
	}
}

// requireGone fails the test unless path does not exist.
func requireGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v)", path, err)
	}
}

// email is a report as the sink received it, its parts decoded.
type email struct {
	Subject string
	Header  mail.Header
	Text    string // the text/plain part
	HTML    string // the text/html part
}

func parseMail(t *testing.T, m smtpsink.Message) email {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("reading the message: %v\n%s", err, m.Data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	e := email{Subject: subject, Header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	e.readParts(t, msg.Body, params["boundary"])
	if e.Text == "" || e.HTML == "" {
		t.Fatalf("want a text/plain and a text/html part:\n%s", m.Data)
	}
	return e
}

// readParts reads the text and HTML parts of a multipart body, those of
// the HTML alternative when it is multipart/related (the HTML and the
// chart it shows) included.
func (e *email) readParts(t *testing.T, body io.Reader, boundary string) {
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
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if ct == "multipart/related" {
			e.readParts(t, p, cp["boundary"])
			continue
		}
		if ct == "image/png" {
			continue // the chart
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if cs := strings.ToLower(cp["charset"]); cs != "utf-8" {
			t.Errorf("part %s: charset %q, want utf-8", ct, cs)
		}
		// Mail's canonical line break is CRLF; a reader sees lines.
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch ct {
		case "text/plain":
			e.Text = body
		case "text/html":
			e.HTML = body
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
}

// oneMail waits for the sink's first message, requires it to be the only
// one, and parses it.
func (r *rig) oneMail() email {
	r.t.Helper()
	msgs := r.sink.WaitFor(r.t, 1, wait)
	if len(msgs) != 1 {
		r.t.Fatalf("want one message, got %d", len(msgs))
	}
	return parseMail(r.t, msgs[0])
}

// section returns the lines of the text report's section NAME (OFFENDERS,
// UNBANS, ...) after its heading, up to the blank line that ends it.
func section(text, name string) string {
	i := strings.Index(text, "\n"+name+"\n")
	if i < 0 {
		return ""
	}
	s := text[i+len(name)+2:]
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

// row is one offender of the text report.
type row struct {
	bans, failures int
	jails          string
	detail         string // its indented lines: jails, ban, users, log
}

var offenderRE = regexp.MustCompile(`^  (\S+) +([0-9]+) +([0-9]+)  [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}  [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}$`)

// offenders parses the OFFENDERS section of a text report.
func offenders(t *testing.T, text string) map[string]*row {
	t.Helper()
	out := map[string]*row{}
	var cur *row
	for i, line := range strings.Split(section(text, "OFFENDERS"), "\n") {
		if i == 0 {
			continue // the column headings
		}
		if m := offenderRE.FindStringSubmatch(line); m != nil {
			if out[m[1]] != nil {
				t.Errorf("offender %s listed twice:\n%s", m[1], text)
			}
			bans, _ := strconv.Atoi(m[2])
			failures, _ := strconv.Atoi(m[3])
			cur = &row{bans: bans, failures: failures}
			out[m[1]] = cur
			continue
		}
		if cur == nil || !strings.HasPrefix(line, "      ") {
			t.Fatalf("OFFENDERS: unexpected line %q in\n%s", line, text)
		}
		if jails, ok := strings.CutPrefix(line, "      jails:  "); ok {
			cur.jails = jails
		}
		cur.detail += line + "\n"
	}
	return out
}

var summaryRE = regexp.MustCompile(`(?m)^  ([A-Z][a-z]+) +([0-9]+)\b`)

// summary returns the SUMMARY section's counts by name (Bans, Addresses,
// Failures, Jails, Unbans, Restored, Duplicates).
func summary(text string) map[string]int {
	out := map[string]int{}
	for _, m := range summaryRE.FindAllStringSubmatch(section(text, "SUMMARY"), -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

// wantSummary compares the SUMMARY counts named in want.
func wantSummary(t *testing.T, text string, want map[string]int) {
	t.Helper()
	got := summary(text)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("SUMMARY %s = %d, want %d\n%s", k, got[k], v, text)
		}
	}
}

// reapAfter makes sure that when the test ends no process whose command line
// names dir is left (a detached flush, an msmtp): it waits for them, then
// kills the stragglers by pid and fails the test.
func reapAfter(t *testing.T, dir string) {
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for {
			pids := procsNaming(dir + "/")
			if len(pids) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, pid := range pids {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				t.Errorf("processes naming %s still ran %v after the test; killed %v", dir, wait, pids)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// procsNaming lists the processes, other than this one, whose command line
// holds s.
func procsNaming(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// slowRelay returns a relay to addr on 127.0.0.1 that holds every
// connection for delay before it connects it through: an SMTP server that
// takes delay to greet. Everything is closed when the test ends.
func slowRelay(delay time.Duration) func(t *testing.T, addr string) string {
	return func(t *testing.T, addr string) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			conns  []net.Conn
			closed bool
			done   = make(chan struct{})
		)
		// track keeps c to close it when the test ends, or closes it now
		// if the test has ended.
		track := func(c net.Conn) {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				c.Close()
				return
			}
			conns = append(conns, c)
		}
		wg.Go(func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				track(c)
				wg.Go(func() {
					defer c.Close()
					select {
					case <-time.After(delay):
					case <-done:
						return
					}
					s, err := net.Dial("tcp", addr)
					if err != nil {
						return
					}
					track(s)
					defer s.Close()
					wg.Go(func() { _, _ = io.Copy(s, c); _ = s.(*net.TCPConn).CloseWrite() })
					_, _ = io.Copy(c, s)
				})
			}
		})
		t.Cleanup(func() {
			close(done)
			l.Close()
			mu.Lock()
			closed = true
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
		return l.Addr().String()
	}
}

// median of a non-empty list of durations.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
