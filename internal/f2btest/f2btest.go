// Package f2btest runs a private fail2ban-server for tests.
//
// Start builds a throw-away fail2ban configuration directory (CONFDIR) in a
// temporary folder: a fail2ban.conf whose log, socket, pid file and database
// all live in that folder, the stock sshd filter copied from /etc/fail2ban,
// the repository's action.d/f2b-notify.conf, and a jail.local with one jail,
// [sshd], that watches a log file of its own with the polling backend. It then
// runs fail2ban-server in the foreground on that directory, waits until it
// answers, and stops it (killing it if need be) when the test ends, passed or
// failed. The system's fail2ban, if any, is never touched: the private server
// has its own socket, pid file and database.
//
// A test drives the server as fail2ban would be driven in production: Attack
// appends realistic sshd failure lines to the watched log, BanIP and UnbanIP
// ban by hand, Restart replays the bans stored in the database (restored
// bans), and Client runs any other fail2ban-client command.
//
//	f2btest.NeedFail2ban(t)
//	srv := f2btest.Start(t, f2btest.Options{BinPath: bin, ConfigPath: cfg})
//	srv.Attack(0, "198.51.100.23", "alice")
//	srv.Attack(0, "198.51.100.23", "alice")
//	if err := srv.WaitBanned(f2btest.Jail, "198.51.100.23", 10*time.Second); err != nil {
//		t.Fatalf("%v\n%s", err, srv.Log())
//	}
//
// Facts measured with Debian's fail2ban 1.0.2 that the tests of this package
// pin down: a ban runs `actionban` with <failures> = maxretry, <time> a float
// ("1795628212.0", the time of the last failure line), <matches> the log lines
// joined by "\n"; a manual banip gives failures 0, empty matches and F-USER,
// and a float time with a fraction; a restored ban (after a restart) gives
// <restored> 1, an integer time, and the failures, matches and F-USER stored
// in the database; an F-USER the filter did not capture is empty.
package f2btest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Jail is the name of the one jail the private server runs.
const Jail = "sshd"

// StockDir is where Debian's fail2ban keeps its configuration; filters and
// stock action files are copied from there.
const StockDir = "/etc/fail2ban"

// How long the server may take to answer after it starts, and to exit after
// it is told to stop.
const (
	readyTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
	// clientTimeout bounds one fail2ban-client run.
	clientTimeout = 30 * time.Second
)

// Options shape the private server. The zero value runs the f2b-notify action
// with the default binary and configuration paths.
type Options struct {
	// BinPath is the f2b_notify and f2b_notify_ban parameter of the
	// f2b-notify action: the program fail2ban runs for every action command.
	// Default /usr/bin/f2b-notify (the action file's own default).
	BinPath string
	// ConfigPath is the config parameter of the f2b-notify action. Default
	// "config.yaml" in the server's temporary folder (not created).
	ConfigPath string
	// Jail holds settings of the [sshd] jail that are added to, or replace,
	// the defaults (enabled, filter, backend=polling, usedns=no, maxretry=2,
	// findtime=10m, bantime=10m, logpath, logencoding=utf-8, action), e.g.
	// {"bantime": "-1"}. Setting "action" replaces the whole action list,
	// f2b-notify included. A value may span lines.
	Jail map[string]string
	// Actions are more action lines of the jail, run after f2b-notify, e.g.
	// `sendmail-buffered[lines=1, mailcmd="cat >> /tmp/x/mail"]`.
	Actions []string
	// ActionFiles names stock action files to copy from
	// /etc/fail2ban/action.d, with the files they include, e.g.
	// "sendmail-buffered.conf".
	ActionFiles []string
	// Files are written into CONFDIR after everything else: path relative to
	// CONFDIR → content, e.g. {"action.d/my.conf": "..."}.
	Files map[string]string
	// LogLevel of the server. Default DEBUG.
	LogLevel string
	// Env is added to the server's environment (KEY=VALUE), which every
	// action command inherits.
	Env []string
}

// Server is a running private fail2ban-server.
type Server struct {
	t   testing.TB
	opt Options

	dir     string // the temporary folder holding everything
	confDir string
	sock    string
	pidFile string
	logFile string // the server's logtarget
	outFile string // the server's stdout and stderr
	watched string // the log file the jail watches

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	nextPID int
}

var installMu sync.Mutex

// NeedFail2ban makes sure fail2ban-server and fail2ban-client are installed.
// When they are missing and the test runs as root on a host with apt-get, it
// installs Debian's fail2ban package (running apt-get update first if the
// install fails). It never skips: when fail2ban cannot be had, the test fails.
//
// Installing the package may start the system's fail2ban service; the servers
// of this package do not collide with it (own socket, pid file, database).
func NeedFail2ban(t testing.TB) {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	if haveFail2ban() {
		return
	}
	if os.Geteuid() != 0 {
		t.Fatalf("f2btest: fail2ban-server/fail2ban-client not found and not root: install fail2ban (apt-get install fail2ban)")
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		t.Fatalf("f2btest: fail2ban-server/fail2ban-client not found and no apt-get to install them: %v", err)
	}
	apt := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 4000))
		}
		return nil
	}
	install := []string{"install", "-y", "--no-install-recommends", "fail2ban"}
	err = apt(install...)
	if err != nil && !haveFail2ban() {
		t.Logf("f2btest: %v; running apt-get update", err)
		if err := apt("update"); err != nil {
			t.Fatalf("f2btest: cannot install fail2ban: %v", err)
		}
		err = apt(install...)
	}
	if !haveFail2ban() {
		t.Fatalf("f2btest: cannot install fail2ban: fail2ban-server/fail2ban-client not in PATH after apt-get install (%v)", err)
	}
	if err != nil {
		// The package's scripts may fail to start the system's service
		// (no init system, no /var/log/auth.log); the programs are there.
		t.Logf("f2btest: fail2ban installed; apt-get reported: %v", err)
	}
}

func haveFail2ban() bool {
	for _, p := range []string{"fail2ban-server", "fail2ban-client"} {
		if _, err := exec.LookPath(p); err != nil {
			return false
		}
	}
	return true
}

// RepoRoot returns the repository's root: the first folder holding go.mod,
// walking up from the working directory (a test's package folder).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatalf("f2btest: %v", err)
	}
	return dir
}

// ActionFile returns the path of the repository's action.d/f2b-notify.conf.
func ActionFile(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "action.d", "f2b-notify.conf")
}

// TempDir returns a new temporary folder removed when the test ends. Unlike
// t.TempDir, its path is short (a unix socket path is limited to 108 bytes,
// and t.TempDir embeds the test's name).
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "f2bt")
	if err != nil {
		t.Fatalf("f2btest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Start writes the configuration, starts fail2ban-server and waits until it
// answers. The server is stopped when the test ends. Start fails the test,
// with the server's log, when the server does not come up.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	NeedFail2ban(t)
	dir := TempDir(t)
	s := &Server{
		t:       t,
		opt:     opt,
		dir:     dir,
		confDir: filepath.Join(dir, "conf"),
		sock:    filepath.Join(dir, "fail2ban.sock"),
		pidFile: filepath.Join(dir, "fail2ban.pid"),
		logFile: filepath.Join(dir, "fail2ban.log"),
		outFile: filepath.Join(dir, "server.out"),
		watched: filepath.Join(dir, "auth.log"),
		nextPID: 1000,
	}
	if s.opt.BinPath == "" {
		s.opt.BinPath = "/usr/bin/f2b-notify"
	}
	if s.opt.ConfigPath == "" {
		s.opt.ConfigPath = filepath.Join(dir, "config.yaml")
	}
	if s.opt.LogLevel == "" {
		s.opt.LogLevel = "DEBUG"
	}
	if err := s.writeConfig(); err != nil {
		t.Fatalf("f2btest: writing the configuration: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs before the folder goes.
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("f2btest: fail2ban-server log (%s):\n%s", s.logFile, tail(s.Log(), 16000))
		}
	})
	if err := s.start(); err != nil {
		t.Fatalf("f2btest: %v\n%s", err, tail(s.Log(), 16000))
	}
	return s
}

func (s *Server) writeConfig() error {
	for _, d := range []string{"action.d", "filter.d", "jail.d"} {
		if err := os.MkdirAll(filepath.Join(s.confDir, d), 0o755); err != nil {
			return err
		}
	}
	f2bConf := fmt.Sprintf(`[Definition]
loglevel = %s
logtarget = %s
syslogsocket = auto
socket = %s
pidfile = %s
allowipv6 = auto
dbfile = %s
dbpurgeage = 1d
dbmaxmatches = 10
`, s.opt.LogLevel, s.logFile, s.sock, s.pidFile, s.dbFile())
	if err := os.WriteFile(filepath.Join(s.confDir, "fail2ban.conf"), []byte(f2bConf), 0o644); err != nil {
		return err
	}
	if err := copyWithIncludes(filepath.Join(StockDir, "filter.d"), filepath.Join(s.confDir, "filter.d"), "sshd.conf"); err != nil {
		return err
	}
	// The repository's action file.
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if err := copyFile(filepath.Join(root, "action.d", "f2b-notify.conf"), filepath.Join(s.confDir, "action.d", "f2b-notify.conf")); err != nil {
		return err
	}
	for _, name := range s.opt.ActionFiles {
		if err := copyWithIncludes(filepath.Join(StockDir, "action.d"), filepath.Join(s.confDir, "action.d"), name); err != nil {
			return err
		}
	}
	if err := os.WriteFile(s.watched, nil, 0o644); err != nil {
		return err
	}

	// fail2ban strips the double quotes; it knows no escapes inside them.
	action := `f2b-notify[f2b_notify="` + s.opt.BinPath + `", f2b_notify_ban="` + s.opt.BinPath + `", config="` + s.opt.ConfigPath + `"]`
	action = strings.Join(append([]string{action}, s.opt.Actions...), "\n")
	settings := map[string]string{
		"enabled":     "true",
		"filter":      "sshd",
		"backend":     "polling",
		"usedns":      "no",
		"maxretry":    "2",
		"findtime":    "10m",
		"bantime":     "10m",
		"logpath":     s.watched,
		"logencoding": "utf-8",
		"action":      action,
	}
	for k, v := range s.opt.Jail {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var jail strings.Builder
	fmt.Fprintf(&jail, "[%s]\n", Jail)
	for _, k := range keys {
		// Continuation lines of a multi-line value are indented.
		v := strings.ReplaceAll(strings.TrimSpace(settings[k]), "\n", "\n    ")
		fmt.Fprintf(&jail, "%s = %s\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(s.confDir, "jail.local"), []byte(jail.String()), 0o644); err != nil {
		return err
	}
	for name, content := range s.opt.Files {
		p := filepath.Join(s.confDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

var includeRE = regexp.MustCompile(`(?m)^\s*(?:before|after)\s*=\s*(.*)$`)

// copyWithIncludes copies srcDir/name to dstDir, then every file it names in
// `before =` / `after =` that exists in srcDir (such as common.conf), and so
// on. A missing include (usually a .local) is skipped, as fail2ban does.
func copyWithIncludes(srcDir, dstDir, name string) error {
	seen := map[string]bool{}
	queue := []string{name}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		src := filepath.Join(srcDir, n)
		data, err := os.ReadFile(src)
		if err != nil {
			if n != name && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		dst := filepath.Join(dstDir, n)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		for _, m := range includeRE.FindAllStringSubmatch(string(data), -1) {
			queue = append(queue, strings.Fields(m[1])...)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// start runs fail2ban-server and waits until it answers a ping.
func (s *Server) start() error {
	out, err := os.OpenFile(s.outFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command("fail2ban-server", "-f", "-x", "-c", s.confDir, "-s", s.sock, "-p", s.pidFile)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), s.opt.Env...)
	// Its own process group, so that a server that does not stop can be
	// killed together with what it runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting fail2ban-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("fail2ban-server exited at start: %v", cmd.ProcessState)
		default:
		}
		if out, err := s.Client("ping"); err == nil && strings.Contains(out, "pong") {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("fail2ban-server did not answer within %v", readyTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client runs fail2ban-client with this server's configuration, socket and
// pid file, and returns its standard output. The error carries the standard
// error.
func (s *Server) Client(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	full := append([]string{"-c", s.confDir, "-s", s.sock, "-p", s.pidFile}, args...)
	cmd := exec.CommandContext(ctx, "fail2ban-client", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("fail2ban-client %s: %v: %s%s",
			strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// BanIP bans ip by hand in jail (fail2ban-client set JAIL banip IP).
func (s *Server) BanIP(jail, ip string) error {
	_, err := s.Client("set", jail, "banip", ip)
	return err
}

// UnbanIP lifts the ban of ip in jail (fail2ban-client set JAIL unbanip IP).
func (s *Server) UnbanIP(jail, ip string) error {
	_, err := s.Client("set", jail, "unbanip", ip)
	return err
}

// Banned reports whether fail2ban lists ip as banned in jail.
func (s *Server) Banned(jail, ip string) (bool, error) {
	out, err := s.Client("get", jail, "banned", ip)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) == "1", nil
}

// WaitBanned waits until fail2ban lists ip as banned in jail. fail2ban lists
// a ban before its actions have run: to see what an action did, wait for its
// effect too (see WaitFor).
func (s *Server) WaitBanned(jail, ip string, timeout time.Duration) error {
	var last error
	err := WaitFor(timeout, func() bool {
		ok, err := s.Banned(jail, ip)
		last = err
		return ok
	})
	if err != nil {
		if last != nil {
			return fmt.Errorf("%s not banned in %s after %v: %w", ip, jail, timeout, last)
		}
		return fmt.Errorf("%s not banned in %s after %v", ip, jail, timeout)
	}
	return nil
}

// StoredBans lists the addresses that fail2ban's database holds as banned in
// jail (the bans a restart restores), read with python3's sqlite3, which
// fail2ban itself needs. fail2ban stores a ban shortly after running its
// actions.
func (s *Server) StoredBans(jail string) ([]string, error) {
	const script = `import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for (ip,) in db.execute("SELECT DISTINCT ip FROM bips WHERE jail=? ORDER BY ip", (sys.argv[2],)):
    print(ip)
`
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "python3", "-c", script, s.dbFile(), jail).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return nil, fmt.Errorf("reading %s: %v %s", s.dbFile(), err, stderr)
	}
	return strings.Fields(string(out)), nil
}

func (s *Server) dbFile() string { return filepath.Join(s.dir, "fail2ban.sqlite3") }

// WaitFor polls cond every 50 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AttackLine formats one sshd failure line as syslog writes it, stamped with
// at: `Nov 25 17:36:52 vm sshd[1001]: Invalid user alice from 198.51.100.23
// port 22`. With an empty user it is a failure from which the filter captures
// no user (a client's "Auth fail" disconnect). ip may be IPv4 or IPv6.
func AttackLine(at time.Time, pid int, ip, user string) string {
	stamp := at.Format("Jan _2 15:04:05")
	if user == "" {
		return fmt.Sprintf("%s vm sshd[%d]: Received disconnect from %s port 22:3: com.jcraft.jsch.JSchException: Auth fail [preauth]", stamp, pid, ip)
	}
	return fmt.Sprintf("%s vm sshd[%d]: Invalid user %s from %s port 22", stamp, pid, user, ip)
}

// Attack appends one failed sshd login of user from ip, stamped now, to the
// watched log and returns the line written (without its newline). The sshd
// filter ties lines together by the sshd PID, so every attack needs its own:
// pid <= 0 picks a fresh one. user must not hold a newline.
func (s *Server) Attack(pid int, ip, user string) string {
	s.t.Helper()
	if strings.ContainsAny(user, "\r\n") {
		s.t.Fatalf("f2btest: Attack: user %q holds a line break", user)
	}
	s.mu.Lock()
	if pid <= 0 {
		s.nextPID++
		pid = s.nextPID
	}
	s.mu.Unlock()
	line := AttackLine(time.Now(), pid, ip, user)
	s.AppendLog(line)
	return line
}

// AppendLog appends line and a newline to the log file the jail watches.
func (s *Server) AppendLog(line string) {
	s.t.Helper()
	f, err := os.OpenFile(s.watched, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatalf("f2btest: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		s.t.Fatalf("f2btest: %v", err)
	}
}

// Stop stops the server as an administrator would (fail2ban-client stop:
// every jail runs actionflush or actionunban, then actionstop) and waits for
// it to exit, killing its process group when it does not. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
	default:
		if _, err := s.Client("stop"); err != nil {
			s.t.Logf("f2btest: %v", err)
		}
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			s.t.Errorf("f2btest: fail2ban-server did not exit within %v of stop; killing it", stopTimeout)
			s.kill()
		}
	}
	s.mu.Lock()
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
}

// Kill ends the server at once with SIGKILL, as a crash would: no action
// command runs. Restart starts it again.
func (s *Server) Kill() {
	s.kill()
	s.mu.Lock()
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		s.t.Errorf("f2btest: fail2ban-server (pid %d) survived SIGKILL", cmd.Process.Pid)
	}
}

// Restart stops the server (if it runs) and starts it again on the same
// configuration and database: the bans still current are replayed through
// actionban with <restored> = 1.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("f2btest: restart: %v\n%s", err, tail(s.Log(), 16000))
	}
}

// PID returns the server's process id, or 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// PidFile returns the pid file the server writes (fail2ban.conf's pidfile).
func (s *Server) PidFile() string { return s.pidFile }

// Log returns the server's log, followed by what it wrote on its standard
// output and error, for failure messages.
func (s *Server) Log() string {
	logData, _ := os.ReadFile(s.logFile)
	out, _ := os.ReadFile(s.outFile)
	if len(out) == 0 {
		return string(logData)
	}
	return string(logData) + "\n--- fail2ban-server stdout/stderr ---\n" + string(out)
}

// ConfDir returns the configuration directory (fail2ban-client -c).
func (s *Server) ConfDir() string { return s.confDir }

// Dir returns the temporary folder holding the configuration, socket, pid
// file, database and logs; tests may put their own files there.
func (s *Server) Dir() string { return s.dir }

// LogPath returns the log file the jail watches.
func (s *Server) LogPath() string { return s.watched }

// ConfigTest runs `fail2ban-client -c confDir -t`, fail2ban's check of a
// configuration directory, and returns its combined output; the error is
// non-nil when the check fails.
func ConfigTest(confDir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "fail2ban-client", "-c", confDir, "-t").CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("fail2ban-client -c %s -t: %v\n%s", confDir, err, out)
	}
	return string(out), nil
}

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opt }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
