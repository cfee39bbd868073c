// Package banpath is what runs once per ban: validate fail2ban's arguments,
// read the three settings the ban path needs (package bankeys), append the record under the
// lock, and start a detached flush if the flag file is there. It links no
// configuration framework, no YAML library (see ParsePlain), no template and
// no network client, so that the lean f2b-notify-ban binary built on it
// starts about as fast as a Go hello-world (BENCHMARKS.md): fail2ban runs one action
// command at a time for the whole host.
package banpath

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/bankeys"
	"github.com/f2b-notify/f2b-notify/internal/defaults"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// Args are the arguments of `ban` and `unban`, as fail2ban passes them.
type Args struct {
	Action   string // buffer.ActionBan or buffer.ActionUnban
	Jail     string
	IP       string
	Failures string
	Time     string
	Bantime  string
	Matches  string
	User     string
	Restored string
}

// Flags declares the arguments of `ban` and `unban` once for both binaries:
// def is the flag library's StringVar, with the default value fixed to "".
func (a *Args) Flags(def func(p *string, name, usage string)) {
	def(&a.Jail, "jail", "jail name (<name>)")
	def(&a.IP, "ip", "IPv4 or IPv6 address (<ip>)")
	def(&a.Failures, "failures", "failures in the ticket (<failures>)")
	def(&a.Time, "time", "epoch seconds of the last failure, integer or float (<time>)")
	def(&a.Bantime, "bantime", "ban time in seconds, -1 for permanent (<bantime>)")
	def(&a.Matches, "matches", "log lines that matched, newline-separated (<matches>)")
	def(&a.User, "user", "user name the filter captured (<F-USER>)")
	def(&a.Restored, "restored", "1 when fail2ban replays a ban at restart (<restored>)")
}

// Record builds and validates the record; the error names the flag at fault.
func (a *Args) Record(now time.Time) (*buffer.Record, error) {
	r := &buffer.Record{V: buffer.SchemaVersion, Action: a.Action, Jail: a.Jail, At: now.Unix()}
	if err := buffer.ValidJail(a.Jail); err != nil {
		return nil, err
	}
	ip, err := buffer.ParseIP(a.IP)
	if err != nil {
		return nil, err
	}
	r.IP = ip
	if r.Failures, err = parseCount("--failures", a.Failures, buffer.MaxFailures); err != nil {
		return nil, err
	}
	if r.Time, err = buffer.ParseTime(a.Time); err != nil {
		return nil, err
	}
	if r.Bantime, err = parseBantime(a.Bantime); err != nil {
		return nil, err
	}
	switch strings.TrimSpace(a.Restored) {
	case "", "0", "false":
	case "1", "true":
		r.Restored = true
	default:
		return nil, fmt.Errorf("--restored %q: want 0 or 1", a.Restored)
	}
	r.User = untagged(a.User)
	if m := untagged(a.Matches); m != "" {
		for line := range strings.SplitSeq(m, "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				r.Matches = append(r.Matches, line)
			}
		}
	}
	return r, r.Validate()
}

// Program is how the program running the ban path reads its configuration
// and starts a flush. The zero value is the lean f2b-notify-ban's reader
// without its flush: set Lean there, and Parse in the full command.
type Program struct {
	// Parse reads a configuration file into the map the ban path looks
	// at; nil is ParsePlain, which links no YAML library. The full command
	// gives its complete YAML parser.
	Parse func(data []byte) (map[string]any, error)
	// Lean is set by the lean f2b-notify-ban binary, which cannot flush
	// itself nor read every YAML file: it runs the full f2b-notify for both.
	Lean bool
}

// Settings are the keys of the configuration the ban path reads.
type Settings = bankeys.Settings

// ReadSettings reads buffer.dir, buffer.fsync and flag from the YAML file at
// path and the F2B_NOTIFY_* environment, with the rules of the full
// configuration loader (package bankeys); other keys are left to `check` and
// `flush`. own reports whether s.Dir is the folder this configuration names:
// it is false when the file is missing, cannot be read or parsed, or its
// buffer.dir is wrong, and s then holds the defaults and the environment. A
// mistake in another key the ban path reads, or YAML broken outside the
// lines ParsePlain reads, is in err, and s.Dir is still the file's: the ban
// is stored where its report will find it once the file is fixed.
func (p Program) ReadSettings(path string) (s Settings, own bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return envOnly(), false, fmt.Errorf("config %s: %w", path, err)
	}
	parse := p.Parse
	if parse == nil {
		parse = ParsePlain
	}
	doc, err := parse(data)
	if errors.Is(err, ErrUnsupported) {
		return envOnly(), false, fmt.Errorf("config %s: %w", path, err)
	}
	var syntax error
	if err != nil {
		// YAML broken elsewhere than in the lines of the ban path's keys:
		// read those lines as the lean binary does, so that both binaries
		// store the ban in the same folder; the error is said all the same.
		syntax = fmt.Errorf("config %s: %s", path, textutil.OneLine(err.Error()))
		if doc, err = ParsePlain(data); err != nil {
			return envOnly(), false, syntax
		}
	}
	s, err = bankeys.Read(doc, os.LookupEnv)
	if err != nil {
		err = fmt.Errorf("config %s: %w", path, err)
	}
	return s, !bankeys.Failed(err, bankeys.Dir), errors.Join(syntax, err)
}

// envOnly is the settings of no file: the defaults and the environment (a
// wrong variable keeps its default).
func envOnly() Settings {
	s, _ := bankeys.Read(nil, os.LookupEnv)
	return s
}

// fallback is where a ban goes when its configuration (failed) does not say
// where: the folder of the default configuration ($F2B_NOTIFY_CONFIG, else
// /etc/f2b-notify/config.yaml), whose flush then reports the ban with a note
// naming failed; else the default folder, as the environment may change it.
// It returns the settings and the configuration a flush should read.
func (p Program) fallback(failed string) (Settings, string) {
	def := ConfigPath("")
	if def != failed {
		if s, own, _ := p.ReadSettings(def); own {
			return s, def
		}
	}
	return envOnly(), def
}

// ConfigPath is the configuration file: the flag's value if set, else
// $F2B_NOTIFY_CONFIG, else the default.
func ConfigPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv(defaults.EnvConfig); p != "" {
		return p
	}
	return defaults.ConfigPath
}

// Exit is how a ban command ends: its status and a one-line message for
// stderr ("" for none).
type Exit struct {
	Code int
	Msg  string
}

// Run records one ban or unban and, when the flag file exists, starts
// `f2b-notify flush --if-flag` in the background. Bad arguments give status
// 2 and nothing is written; a record that cannot be stored gives status 1. A
// configuration file that is missing, cannot be read, or has a mistake in a
// key the ban path reads still gets the record stored, and status 1 with one
// line naming the file, so that fail2ban logs it: in the folder the file
// names if it could be read, else where the default configuration's flush
// reports it (see fallback), the record then naming the file in its config
// field, for the report to say why it is there.
func (p Program) Run(a Args, configPath string, now time.Time) Exit {
	r, err := a.Record(now)
	if err != nil {
		return Exit{2, a.Action + ": " + textutil.OneLine(err.Error()) + "; nothing recorded"}
	}
	s, own, cfgErr := p.ReadSettings(configPath)
	if errors.Is(cfgErr, ErrUnsupported) && p.Lean {
		// YAML the lean reader does not read with certainty: the full
		// command reads it, in this same process (no second record).
		if err := p.execFull(); err != nil {
			cfgErr = fmt.Errorf("%w, and %w", cfgErr, err)
		}
	}
	flushConfig := configPath
	if !own {
		r.Config = configPath
		s, flushConfig = p.fallback(configPath)
	}
	buf := buffer.New(s.Dir, s.Fsync)
	if err := buf.Append(r); err != nil {
		return Exit{1, a.Action + " " + r.IP + " in " + r.Jail + ": " + textutil.OneLine(err.Error())}
	}
	// The ban is stored (its files are opened without following links).
	// A configuration or buffer folder that another user could change is
	// said loudly, and no flush is started from it: the flush refuses it.
	unsafe := fsguard.CheckSetup(flushConfig, s.Dir)
	var warn string
	if unsafe == nil && buf.Flag(s.Flag).State == buffer.FlagSet {
		if err := p.StartFlush(flushConfig, s.Dir); err != nil {
			warn = a.Action + " recorded, but the flush could not start: " + textutil.OneLine(err.Error())
		}
	}
	where := s.Dir
	if flushConfig != configPath {
		where += " for the report of " + flushConfig
	}
	switch {
	case cfgErr != nil && unsafe != nil:
		return Exit{1, a.Action + " recorded in " + where + ", but " + textutil.OneLine(cfgErr.Error()) + "; and " + textutil.OneLine(unsafe.Error()) + "; no flush started"}
	case cfgErr != nil:
		return Exit{1, a.Action + " recorded in " + where + ", but " + textutil.OneLine(cfgErr.Error())}
	case unsafe != nil:
		return Exit{1, a.Action + " recorded in " + where + ", but " + textutil.OneLine(unsafe.Error()) + "; no flush started"}
	case warn != "":
		return Exit{1, warn}
	}
	return Exit{}
}

// StartFlush runs `f2b-notify --config PATH flush --if-flag -v --timestamps` in a new session
// and does not wait for it: fail2ban waits for every process that holds its
// pipes, and runs one action at a time. The child's output goes to
// DIR/last-flush.log (appended), never to fail2ban's pipes.
func (p Program) StartFlush(configPath, dir string) error {
	proc, _, err := p.StartDetached(configPath, dir, "flush", "--if-flag", "-v", "--timestamps")
	if err != nil {
		return err
	}
	return proc.Release()
}

// StartDetached runs `f2b-notify --config PATH ARGS...` in a new session,
// stdin /dev/null, its output appended to DIR/last-flush.log. It returns the
// process, which the caller may wait for or release, and the offset in the
// log where the child's output begins.
func (p Program) StartDetached(configPath, dir string, args ...string) (*os.Process, int64, error) {
	exe, argv0, err := p.flushCommand()
	if err != nil {
		return nil, 0, err
	}
	// Appended to, not truncated: a ban that finds a flush running must not
	// wipe that flush's report of what it did. Bounded: past MaxFlushLog,
	// only its last lines are kept.
	// Opened without following a link: a link planted there must not make
	// root append to, or truncate, a file elsewhere.
	name := filepath.Join(dir, defaults.FlushLog)
	logf, err := fsguard.Open(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("open flush log: %w", err)
	}
	defer logf.Close()
	keepTail(logf, MaxFlushLog, MaxFlushLog/4)
	off, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, fmt.Errorf("open flush log: %w", err)
	}
	cmd := exec.Command(exe, append([]string{"--config", configPath}, args...)...)
	cmd.Args[0] = argv0
	cmd.Stdout, cmd.Stderr = logf, logf // stdin stays /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s %s: %w", exe, args[0], err)
	}
	return cmd.Process, off, nil
}

// MaxFlushLog bounds DIR/last-flush.log: past it, the oldest lines go.
const MaxFlushLog = 1 << 20

// keepTail cuts f, opened for appending, to its last whole lines within keep
// bytes when it is longer than most. A failure leaves it as it was, or
// empty: it is a log, and the next flush writes it anew.
func keepTail(f *os.File, most, keep int64) {
	st, err := f.Stat()
	if err != nil || st.Size() <= most {
		return
	}
	tail := make([]byte, keep)
	n, err := f.ReadAt(tail, st.Size()-keep)
	if err != nil && err != io.EOF {
		_ = f.Truncate(0)
		return
	}
	tail = tail[:n]
	if i := bytes.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:] // from the first whole line on
	}
	if f.Truncate(0) == nil {
		_, _ = f.Write(tail)
	}
}

// flushCommand finds the full f2b-notify: this program if it is the full one,
// else f2b-notify beside it, else f2b-notify on $PATH.
func (p Program) flushCommand() (path, argv0 string, err error) {
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("find own executable: %w", err)
	}
	if !p.Lean {
		return self, os.Args[0], nil
	}
	sibling := filepath.Join(filepath.Dir(self), "f2b-notify")
	if st, err := os.Stat(sibling); err == nil && !st.IsDir() {
		return sibling, sibling, nil
	}
	full, err := exec.LookPath("f2b-notify")
	if err != nil {
		return "", "", fmt.Errorf("find f2b-notify to run the flush: not beside %s nor on $PATH", self)
	}
	return full, full, nil
}

// execFull replaces this process with the full f2b-notify, given the same
// arguments; it returns only if that fails.
func (p Program) execFull() error {
	exe, argv0, err := p.flushCommand()
	if err != nil {
		return err
	}
	argv := append([]string{argv0}, os.Args[1:]...)
	if err := syscall.Exec(exe, argv, os.Environ()); err != nil {
		return fmt.Errorf("run %s: %w", exe, err)
	}
	return nil
}

// untagged treats a tag fail2ban left unreplaced, such as "<F-USER>", as
// empty. Only fail2ban's own tag names count: "<admin>" is a user name an
// attacker may well try, and it is kept.
func untagged(s string) string {
	switch s {
	case "<F-USER>", "<matches>", "<ipmatches>", "<ipjailmatches>":
		return ""
	}
	return s
}

func parseCount(flag, s string, most int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > most {
		return 0, fmt.Errorf("%s %q: want a whole number from 0 to %d", flag, s, most)
	}
	return n, nil
}

func parseBantime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= -1 && f <= buffer.MaxBantime) { // NaN fails both
		return 0, fmt.Errorf("--bantime %q: want seconds up to %d (100 years), or -1 for permanent", s, buffer.MaxBantime)
	}
	return int64(f), nil
}
