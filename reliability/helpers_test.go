//go:build integration

package reliability

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// Binaries under test, built once by TestMain: the full command, and the lean
// ban path when the module has it.
var (
	binary    string // f2b-notify
	banBinary string // f2b-notify-ban, or "" when cmd/f2b-notify-ban does not exist
	binDir    string

	fakeSendmailBinary string // testdata/fakesendmail
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(func() int { return testMain(m) })) }

func testMain(m *testing.M) int {
	var err error
	binDir, err = os.MkdirTemp("", "f2bn-reliability-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	// The unprivileged scenarios run the binaries as nobody.
	if err := os.Chmod(binDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	binary = filepath.Join(binDir, "f2b-notify")
	if err := testenv.Build(binary, "../cmd/f2b-notify"); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	fakeSendmailBinary = filepath.Join(binDir, "fakesendmail")
	if err := testenv.Build(fakeSendmailBinary, "./testdata/fakesendmail"); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	if _, err := os.Stat("../cmd/f2b-notify-ban"); err == nil {
		banBinary = filepath.Join(binDir, "f2b-notify-ban")
		if err := testenv.Build(banBinary, "../cmd/f2b-notify-ban"); err != nil {
			fmt.Fprintln(os.Stderr, "reliability:", err)
			return 1
		}
	}
	return m.Run()
}

// full reports whether the long sizes were asked for.
func full() bool { return os.Getenv("RELIABILITY_FULL") == "1" }

// figures logs the one line per scenario that scripts collect, in a fixed
// format, followed by optional key=value details.
func figures(t testing.TB, scenario string, tried, lost, duplicated, leaked int, extra ...string) {
	t.Helper()
	line := fmt.Sprintf("RELIABILITY: scenario=%s tried=%d lost=%d duplicated=%d leaked=%d", scenario, tried, lost, duplicated, leaked)
	if len(extra) > 0 {
		line += " " + strings.Join(extra, " ")
	}
	t.Log(line)
}

// banBinaries lists the programs that record bans: f2b-notify ban, and the
// lean f2b-notify-ban when it exists. Each is given as the argv prefix
// before "ban".
func banBinaries() map[string]string {
	m := map[string]string{"f2b-notify": binary}
	if banBinary != "" {
		m["f2b-notify-ban"] = banBinary
	}
	return m
}

// result is what a finished command did.
type result struct {
	Out, Err string
	Code     int // -1 when it could not start or was killed
	Elapsed  time.Duration
	StartErr error
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout: %q\nstderr: %q", r.Code, r.Elapsed.Round(time.Millisecond), r.Out, r.Err)
}

// proc describes a command to run.
type proc struct {
	argv    []string
	env     []string // added to the environment
	timeout time.Duration
	cred    *syscall.Credential
	stdin   io.Reader
}

// command builds p in its own process group, so that a timeout or the end
// of the test can kill it and every child it started.
func (p proc) command() *exec.Cmd {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = testenv.Env(p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	cmd.Stdin = p.stdin
	return cmd
}

// run runs p to the end, killing its process group if it outlives its
// timeout (60s by default): no test waits for ever.
func run(t testing.TB, p proc) result {
	t.Helper()
	if p.timeout == 0 {
		p.timeout = 60 * time.Second
	}
	cmd := p.command()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{Code: -1, StartErr: err}
	}
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(p.timeout):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		err = <-done
		t.Errorf("%s did not end within %v: killed", strings.Join(shortArgv(p.argv), " "), p.timeout)
	}
	r := result{Out: out.String(), Err: errb.String(), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		r.Code = -1
		r.StartErr = err
	}
	return r
}

// background starts p and returns it; the test's end kills its process group
// if it still runs. wait returns its result.
type running struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	err  *bytes.Buffer
	done chan struct{}
	werr error
	t0   time.Time
}

func background(t testing.TB, p proc) *running {
	t.Helper()
	cmd := p.command()
	r := &running{cmd: cmd, out: &bytes.Buffer{}, err: &bytes.Buffer{}, done: make(chan struct{}), t0: time.Now()}
	cmd.Stdout, cmd.Stderr = r.out, r.err
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", shortArgv(p.argv), err)
	}
	go func() { r.werr = cmd.Wait(); close(r.done) }()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-r.done
	})
	return r
}

// wait waits up to timeout for the process and returns its result.
func (r *running) wait(t testing.TB, timeout time.Duration) result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		t.Errorf("%v did not end within %v: killed", shortArgv(r.cmd.Args), timeout)
	}
	res := result{Out: r.out.String(), Err: r.err.String(), Elapsed: time.Since(r.t0)}
	var ee *exec.ExitError
	if errors.As(r.werr, &ee) {
		res.Code = ee.ExitCode()
	} else if r.werr != nil {
		res.Code = -1
	}
	return res
}

// groupGone waits until no live process of the group pgid is left, for at
// most timeout, and reports whether it is gone. Zombies do not count: an
// orphan's zombie waits for whatever reaps orphans here, which can take a
// while, and kill(-pgid, 0) would still see it.
func groupGone(pgid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !groupAlive(pgid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// groupAlive reports whether a process of group pgid runs, from /proc.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // cannot tell: kill said there is one
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

func shortArgv(argv []string) []string {
	out := make([]string, 0, len(argv))
	for _, a := range argv {
		if len(a) > 60 {
			a = a[:60] + "…"
		}
		out = append(out, a)
	}
	return out
}

// site is one installation: a folder with a configuration, a buffer and a
// flag, used by the real binaries.
type site struct {
	t    testing.TB
	dir  string
	buf  string // buffer.dir
	cfg  string // the configuration file
	flag string
}

// siteOptions shape the configuration a site writes.
type siteOptions struct {
	fsync    bool
	channels string // the YAML under "channels:", indented by two spaces; {DIR} is the site's folder
	extra    string // more top-level YAML
}

func newSite(t testing.TB, o siteOptions) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{t: t, dir: dir, buf: filepath.Join(dir, "buf"), cfg: filepath.Join(dir, "config.yaml"), flag: filepath.Join(dir, "mail.flag")}
	s.writeConfig(o)
	return s
}

func (s *site) writeConfig(o siteOptions) {
	s.t.Helper()
	yaml := fmt.Sprintf(`buffer:
  dir: %s
  fsync: %v
flag: %s
host: reliability.test
report:
  timezone: UTC
  max_users: 100
  max_matches: 100
%s
channels:
%s`, s.buf, o.fsync, s.flag, o.extra, strings.ReplaceAll(o.channels, "{DIR}", s.dir))
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// cmd runs the full binary with the site's configuration.
func (s *site) cmd(args ...string) result {
	s.t.Helper()
	return run(s.t, proc{argv: append([]string{binary, "--config", s.cfg}, args...)})
}

// ban runs one ban with the given program (see banBinaries).
func (s *site) ban(prog string, args ...string) result {
	s.t.Helper()
	return run(s.t, proc{argv: append([]string{prog, "--config", s.cfg, "ban"}, args...)})
}

func (s *site) pendingPath() string { return filepath.Join(s.buf, buffer.PendingFile) }

// pendingPaths lists pending.jsonl and the files of their own that bans
// wrote while the buffer lock was busy.
func (s *site) pendingPaths() []string {
	s.t.Helper()
	paths, err := buffer.New(s.buf, false).PendingPaths()
	if err != nil {
		s.t.Fatal(err)
	}
	return paths
}

// pendingBytes returns the pending file's content, nil when it is missing.
func (s *site) pendingBytes() []byte {
	b, err := os.ReadFile(s.pendingPath())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
	}
	return b
}

// records reads every record of the pending file and of the spool.
func (s *site) records() ([]*buffer.Record, buffer.ScanStats) {
	s.t.Helper()
	var out []*buffer.Record
	var all buffer.ScanStats
	files := s.pendingPaths()
	batches, err := buffer.New(s.buf, false).Batches()
	if err != nil {
		s.t.Fatal(err)
	}
	for _, b := range batches {
		files = append(files, b.Path)
	}
	for _, f := range files {
		st, err := buffer.ScanFile(f, func(r *buffer.Record) error { out = append(out, r); return nil })
		if err != nil {
			s.t.Fatal(err)
		}
		all.Add(st)
	}
	return out, all
}

// ledger reads the site's ledger.
func (s *site) ledger() *buffer.Ledger {
	s.t.Helper()
	l, err := buffer.New(s.buf, false).LoadLedger()
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

// appendBan stores a ban directly, as `ban` would.
func (s *site) appendBan(jail, ip string, failures int) {
	s.t.Helper()
	s.store(buffer.New(s.buf, false), jail, ip, failures)
}

// appendBans stores n bans in the jail sshd, of ipN(0) on, and returns
// their addresses.
func (s *site) appendBans(n, failures int) []string {
	s.t.Helper()
	ips := make([]string, n)
	for i := range ips {
		ips[i] = ipN(i)
		s.appendBan("sshd", ips[i], failures)
	}
	return ips
}

// appendBanBeside stores a ban as `ban` does when another process holds the
// buffer lock: in a file of its own.
func (s *site) appendBanBeside(jail, ip string, failures int) {
	s.t.Helper()
	release := holdLock(s.t, s)
	defer release()
	b := buffer.New(s.buf, false)
	b.LockWait = time.Nanosecond
	s.store(b, jail, ip, failures)
}

// store appends to b a ban of ip in jail, dated now.
func (s *site) store(b *buffer.Buffer, jail, ip string, failures int) {
	s.t.Helper()
	now := time.Now().Unix()
	r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: jail, IP: ip, Failures: failures, Time: float64(now), At: now}
	if err := b.Append(r); err != nil {
		s.t.Fatal(err)
	}
}

// ipN is the n-th address of a test: 10.a.b.c, distinct for n < 2^24.
func ipN(n int) string { return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255) }

// offenderRow matches an offender row of the default text report: the IP,
// its bans and failures.
var offenderRow = regexp.MustCompile(`(?m)^  ([0-9a-f][0-9a-f.:]+) +([0-9]+) +([0-9]+) `)

// countIPs counts, per address, the offender rows of text reports.
func countIPs(text string) map[string]int {
	seen := map[string]int{}
	for _, m := range offenderRow.FindAllStringSubmatch(text, -1) {
		seen[m[1]]++
	}
	return seen
}

// readFile returns a file's content, "" when it is missing.
func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// mailParts decodes an e-mail as the sink or a fake sendmail received it:
// its headers, and its text and HTML bodies (transfer encoding undone).
// complete is false when the message is cut short.
type mailParts struct {
	Header     mail.Header
	Text, HTML string
}

func parseMail(data []byte) (*mailParts, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	p := &mailParts{Header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodeBody(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		if err != nil {
			return nil, err
		}
		if mt == "text/html" {
			p.HTML = body
		} else {
			p.Text = body
		}
		return p, nil
	}
	return p, p.readParts(msg.Body, params["boundary"])
}

// readParts reads the text and HTML parts of a multipart body, those
// nested in it included (the HTML alternative is multipart/related when the
// chart goes with it).
func (p *mailParts) readParts(r io.Reader, boundary string) error {
	mr := multipart.NewReader(r, boundary)
	for {
		part, err := mr.NextPart() // undoes quoted-printable itself
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("multipart: %w", err)
		}
		pt, pp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if strings.HasPrefix(pt, "multipart/") {
			if err := p.readParts(part, pp["boundary"]); err != nil {
				return err
			}
			continue
		}
		body, err := decodeBody(part.Header.Get("Content-Transfer-Encoding"), part)
		if err != nil {
			return err
		}
		switch pt {
		case "text/plain":
			p.Text = body
		case "text/html":
			p.HTML = body
		}
	}
}

func decodeBody(enc string, r io.Reader) (string, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "7bit", "8bit", "binary":
		b, err := io.ReadAll(r)
		return string(b), err
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		return string(b), err
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
		return string(b), err
	}
	return "", fmt.Errorf("unknown transfer encoding %q", enc)
}

// fakeSendmail returns the settings of a sendmail channel whose sendmail
// (testdata/fakesendmail) waits delay, then keeps each message it fully
// received as one file in dir/mail/, and that folder.
func fakeSendmail(t testing.TB, dir string, delay time.Duration) (settings, mailDir string) {
	t.Helper()
	mailDir = filepath.Join(dir, "mail")
	if err := os.MkdirAll(mailDir, 0o755); err != nil {
		t.Fatal(err)
	}
	settings = fmt.Sprintf("    sendmail: %s\n    args: [--dir, %s, --delay, %s]\n", fakeSendmailBinary, mailDir, delay)
	return settings, mailDir
}

// mailsIn returns the messages a fake sendmail stored, oldest first, and
// forgets them (they are moved to dir/mail/seen/).
func mailsIn(t testing.TB, mailDir string) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(mailDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "msg.") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	seen := filepath.Join(mailDir, "seen")
	if err := os.MkdirAll(seen, 0o755); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(mailDir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
		if err := os.Rename(filepath.Join(mailDir, n), filepath.Join(seen, n)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// secretsIn returns the secrets that occur in any of texts.
func secretsIn(secrets []string, texts ...string) []string {
	var found []string
	for _, s := range secrets {
		for _, text := range texts {
			if strings.Contains(text, s) {
				found = append(found, s)
				break
			}
		}
	}
	return found
}

// filesWithSecrets walks dirs and returns "FILE: SECRET" for every file
// holding a secret, skipping the files given in except (the secret files
// themselves, the configuration).
func filesWithSecrets(t testing.TB, secrets []string, except map[string]bool, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || except[path] || !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, s := range secretsIn(secrets, string(b)) {
				out = append(out, path+": "+s)
			}
			return nil
		})
	}
	return out
}

// ctxTimeout is a context for in-process work that must not hang a test.
func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// deliveredOnce checks that each of ips reached a channel (where) exactly
// once, as seen counts them, and returns how many never did and how many
// copies beyond the first arrived. It removes ips from seen, so that what
// is left there was delivered without being banned.
func deliveredOnce(t *testing.T, where string, seen map[string]int, ips []string) (lost, dup int) {
	t.Helper()
	for _, ip := range ips {
		switch n := seen[ip]; {
		case n == 0:
			lost++
			t.Errorf("%s never reached %s", ip, where)
		case n > 1:
			dup += n - 1
			t.Errorf("%s reached %s %d times", ip, where, n)
		}
		delete(seen, ip)
	}
	return lost, dup
}
