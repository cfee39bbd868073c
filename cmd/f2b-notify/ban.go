package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
)

// BanOptions are the arguments of `ban` and `unban`, as fail2ban passes them.
type BanOptions struct {
	*Globals
	Action   string
	Jail     string
	IP       string
	Failures string
	Time     string
	Bantime  string
	Matches  string
	User     string
	Restored string
}

func newBanCmd(g *Globals, action string) *cobra.Command {
	o := &BanOptions{Globals: g, Action: action}
	cmd := &cobra.Command{
		Use:   action + " --jail NAME --ip ADDR [flags]",
		Short: "Record a " + action + " (run by fail2ban's action" + action + ")",
		Long: `Record one ` + action + ` in the buffer and return. The record is on disk when the command
exits 0. No network, no templates: fail2ban runs one action at a time for the whole host.
If the flag file exists, a flush is started in the background, fully detached.`,
		RunE: func(*cobra.Command, []string) error { return banRun(o) },
	}
	strictArgs(cmd, "; nothing recorded")
	f := cmd.Flags()
	f.StringVar(&o.Jail, "jail", "", "jail name (<name>)")
	f.StringVar(&o.IP, "ip", "", "IPv4 or IPv6 address (<ip>)")
	f.StringVar(&o.Failures, "failures", "", "failures in the ticket (<failures>)")
	f.StringVar(&o.Time, "time", "", "epoch seconds of the last failure, integer or float (<time>)")
	f.StringVar(&o.Bantime, "bantime", "", "ban time in seconds, -1 for permanent (<bantime>)")
	f.StringVar(&o.Matches, "matches", "", "log lines that matched, newline-separated (<matches>)")
	f.StringVar(&o.User, "user", "", "user name the filter captured (<F-USER>)")
	f.StringVar(&o.Restored, "restored", "", "1 when fail2ban replays a ban at restart (<restored>)")
	return cmd
}

// record builds and validates the record; nothing is written on error.
func (o *BanOptions) record(now time.Time) (*buffer.Record, error) {
	r := &buffer.Record{V: buffer.SchemaVersion, Action: o.Action, Jail: o.Jail, At: now.Unix()}
	if err := buffer.ValidJail(o.Jail); err != nil {
		return nil, err
	}
	ip, err := buffer.ParseIP(o.IP)
	if err != nil {
		return nil, err
	}
	r.IP = ip
	if r.Failures, err = parseCount("--failures", o.Failures); err != nil {
		return nil, err
	}
	if r.Time, err = buffer.ParseTime(o.Time); err != nil {
		return nil, err
	}
	if r.Bantime, err = parseBantime(o.Bantime); err != nil {
		return nil, err
	}
	switch strings.TrimSpace(o.Restored) {
	case "", "0", "false":
	case "1", "true":
		r.Restored = true
	default:
		return nil, fmt.Errorf("--restored %q: want 0 or 1", o.Restored)
	}
	r.User = untagged(o.User)
	if m := untagged(o.Matches); m != "" {
		for line := range strings.SplitSeq(m, "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				r.Matches = append(r.Matches, line)
			}
		}
	}
	return r, r.Validate()
}

func banRun(o *BanOptions) error {
	r, err := o.record(time.Now())
	if err != nil {
		return &exitError{code: 2, msg: o.Action + ": " + oneLine(err.Error()) + "; nothing recorded"}
	}
	path := o.ConfigPath()
	cfg, cfgErr := config.LoadForBan(path)
	if errors.Is(cfgErr, config.ErrNotFound) {
		cfgErr = nil // no configuration yet: defaults are fine for storing bans
	}
	buf := buffer.New(cfg.Buffer.Dir, cfg.Buffer.Fsync)
	if err := buf.Append(r); err != nil {
		return &exitError{code: 1, msg: o.Action + " " + r.IP + " in " + r.Jail + ": " + oneLine(err.Error())}
	}
	if cfg.Flag != "" {
		if _, err := os.Stat(cfg.Flag); err == nil {
			if err := startDetachedFlush(path); err != nil {
				fmt.Fprintln(o.IO.Err, "f2b-notify: ban recorded, but the flush could not start: "+oneLine(err.Error()))
			}
		}
	}
	if cfgErr != nil {
		// Recorded with what could be read; say loudly that the file is wrong.
		return &exitError{code: 1, msg: o.Action + " recorded in " + cfg.Buffer.Dir + ", but " + oneLine(cfgErr.Error())}
	}
	return nil
}

// startDetachedFlush runs `f2b-notify flush --if-flag` in a new session with
// its standard streams on /dev/null, and does not wait for it: fail2ban waits
// for every process that holds its pipes, and runs one action at a time.
func startDetachedFlush(configPath string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(exe, "--config", configPath, "flush", "--if-flag")
	cmd.Args[0] = os.Args[0]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// nil streams are /dev/null for os/exec.
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s flush: %w", exe, err)
	}
	return cmd.Process.Release()
}

// untagged treats a tag fail2ban left unreplaced, such as "<F-USER>", as empty.
func untagged(s string) string {
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") && !strings.ContainsAny(s[1:len(s)-1], "<> \n") {
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
