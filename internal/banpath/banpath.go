// Package banpath is what runs once per ban: validate fail2ban's arguments,
// read the three settings the ban path needs, append the record under the
// lock, and start a detached flush if the flag file is there. It links no
// configuration framework, no YAML library (see ParsePlain), no template and
// no network client, so that the lean f2b-notify-ban binary built on it
// starts in about 1.2–1.3× the time of a Go hello-world: fail2ban runs one action
// command at a time for the whole host.
package banpath

import (
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
	"github.com/f2b-notify/f2b-notify/internal/defaults"
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
	if r.Failures, err = parseCount("--failures", a.Failures); err != nil {
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

// Settings are the keys of the configuration the ban path reads.
type Settings struct {
	Dir   string // buffer.dir
	Fsync bool   // buffer.fsync
	Flag  string // flag; "" disables the flag trigger
}

// ReadSettings reads buffer.dir, buffer.fsync and flag from the YAML file at
// path, then from F2B_NOTIFY_BUFFER_DIR, F2B_NOTIFY_BUFFER_FSYNC and
// F2B_NOTIFY_FLAG, as the full configuration loader does; other keys are
// left to `check` and `flush`. A missing file gives the defaults. A file that
// cannot be read or parsed gives the defaults and the environment, with the
// error: the ban is stored all the same.
func ReadSettings(path string) (Settings, error) {
	s := Settings{Dir: defaults.BufferDir, Fsync: true, Flag: defaults.Flag}
	var ferr error
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		ferr = fmt.Errorf("config %s: %w", path, err)
	default:
		// Read leniently: a mistake in one key must not lose the others,
		// least of all buffer.dir, which says where the ban goes.
		doc, err := Parse(data)
		if errors.Is(err, ErrUnsupported) {
			return s, fmt.Errorf("config %s: %w", path, err)
		}
		if err != nil {
			ferr = fmt.Errorf("config %s: %s", path, oneLine(err.Error()))
			break
		}
		buf, _ := doc["buffer"].(map[string]any)
		if dir, ok := buf["dir"].(string); ok && dir != "" {
			s.Dir = dir
		} else if v, present := buf["dir"]; present && v != nil {
			ferr = fmt.Errorf("config %s: key buffer.dir: want a path", path)
		}
		switch v := buf["fsync"].(type) {
		case nil:
		case bool:
			s.Fsync = v
		default:
			ferr = fmt.Errorf("config %s: key buffer.fsync: want true or false, not %q", path, fmt.Sprint(v))
		}
		switch v := doc["flag"].(type) {
		case nil:
			if _, present := doc["flag"]; present {
				s.Flag = ""
			}
		case string:
			s.Flag = v
		default:
			ferr = fmt.Errorf("config %s: key flag: want a path", path)
		}
	}
	if v, ok := os.LookupEnv(defaults.EnvPrefix + "_BUFFER_DIR"); ok && v != "" {
		s.Dir = v
	}
	if v, ok := os.LookupEnv(defaults.EnvPrefix + "_BUFFER_FSYNC"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil && ferr == nil {
			ferr = fmt.Errorf("environment %s_BUFFER_FSYNC=%q: want true or false", defaults.EnvPrefix, v)
		} else if err == nil {
			s.Fsync = b
		}
	}
	if v, ok := os.LookupEnv(defaults.EnvPrefix + "_FLAG"); ok {
		s.Flag = v
	}
	return s, ferr
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
// 2 and nothing is written; a record that cannot be stored gives status 1; a
// configuration file that cannot be read still stores the record (in the
// folder the file or the environment names, else the default) and gives
// status 1 so that fail2ban logs the problem.
func Run(a Args, configPath string, now time.Time) Exit {
	r, err := a.Record(now)
	if err != nil {
		return Exit{2, a.Action + ": " + oneLine(err.Error()) + "; nothing recorded"}
	}
	s, cfgErr := ReadSettings(configPath)
	if errors.Is(cfgErr, ErrUnsupported) && isLean {
		// YAML the lean reader does not read with certainty: the full
		// command reads it, in this same process (no second record).
		if err := execFull(); err != nil {
			cfgErr = fmt.Errorf("%w, and %w", cfgErr, err)
		}
		s, _ = ReadSettings("") // defaults and environment
	}
	if err := buffer.New(s.Dir, s.Fsync).Append(r); err != nil {
		return Exit{1, a.Action + " " + r.IP + " in " + r.Jail + ": " + oneLine(err.Error())}
	}
	var warn string
	if s.Flag != "" {
		if _, err := os.Stat(s.Flag); err == nil {
			if err := StartFlush(configPath, s.Dir); err != nil {
				warn = a.Action + " recorded, but the flush could not start: " + oneLine(err.Error())
			}
		}
	}
	if cfgErr != nil {
		return Exit{1, a.Action + " recorded in " + s.Dir + ", but " + oneLine(cfgErr.Error())}
	}
	if warn != "" {
		return Exit{1, warn}
	}
	return Exit{}
}

// StartFlush runs `f2b-notify --config PATH flush --if-flag` in a new session
// and does not wait for it: fail2ban waits for every process that holds its
// pipes, and runs one action at a time. The child's output goes to
// DIR/last-flush.log (appended), never to fail2ban's pipes.
func StartFlush(configPath, dir string) error {
	p, _, err := StartDetached(configPath, dir, "flush", "--if-flag")
	if err != nil {
		return err
	}
	return p.Release()
}

// StartDetached runs `f2b-notify --config PATH ARGS...` in a new session,
// stdin /dev/null, its output appended to DIR/last-flush.log. It returns the
// process, which the caller may wait for or release, and the offset in the
// log where the child's output begins.
func StartDetached(configPath, dir string, args ...string) (*os.Process, int64, error) {
	exe, argv0, err := flushCommand()
	if err != nil {
		return nil, 0, err
	}
	// Appended to, not truncated: a ban that finds a flush running must not
	// wipe that flush's report of what it did. Kept under 1 MiB.
	name := filepath.Join(dir, defaults.FlushLog)
	if st, err := os.Stat(name); err == nil && st.Size() > 1<<20 {
		_ = os.Truncate(name, 0)
	}
	logf, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("open flush log: %w", err)
	}
	defer logf.Close()
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

// flushCommand finds the full f2b-notify: this program if it is the full one,
// else f2b-notify beside it, else f2b-notify on $PATH.
func flushCommand() (path, argv0 string, err error) {
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("find own executable: %w", err)
	}
	if !isLean {
		return self, os.Args[0], nil
	}
	sibling := filepath.Join(filepath.Dir(self), "f2b-notify")
	if st, err := os.Stat(sibling); err == nil && !st.IsDir() {
		return sibling, sibling, nil
	}
	p, err := exec.LookPath("f2b-notify")
	if err != nil {
		return "", "", fmt.Errorf("find f2b-notify to run the flush: not beside %s nor on $PATH", self)
	}
	return p, p, nil
}

// execFull replaces this process with the full f2b-notify, given the same
// arguments; it returns only if that fails.
func execFull() error {
	exe, argv0, err := flushCommand()
	if err != nil {
		return err
	}
	argv := append([]string{argv0}, os.Args[1:]...)
	if err := syscall.Exec(exe, argv, os.Environ()); err != nil {
		return fmt.Errorf("run %s: %w", exe, err)
	}
	return nil
}

// isLean is set by the lean f2b-notify-ban binary, which cannot flush itself.
var isLean bool

// SetLean marks this program as the lean ban binary.
func SetLean() { isLean = true }

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

func parseCount(flag, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want a whole number of 0 or more", flag, s)
	}
	return n, nil
}

func parseBantime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < -1 || f != f {
		return 0, fmt.Errorf("--bantime %q: want seconds, or -1 for permanent", s)
	}
	return int64(f), nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
