package jailstate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// ServerName is the program whose process the pid file must name.
const ServerName = "fail2ban-server"

// procDir is where the kernel shows processes.
const procDir = "/proc"

// clockTicks is the kernel's USER_HZ, the unit of a process's start time in
// /proc/PID/stat: 100 on every architecture Linux runs fail2ban on.
const clockTicks = 100

// startSlack is how much earlier than the computed start of the server a
// jail's start may be and still count: the kernel gives the uptime and a
// process's start in hundredths of a second.
const startSlack = 100 * time.Millisecond

// Server is what the pid file says of fail2ban's server.
type Server struct {
	// Known is false when nothing can be said: the pid file is missing,
	// unreadable or not a pid, or the process cannot be inspected.
	Known bool
	// Running: the pid file names a live fail2ban-server process.
	Running bool
	// Why says, when not Running, what shows it, or, when not Known, why
	// nothing is known.
	Why string
	// Started is when the server process started (Running only).
	Started time.Time
	// Missing: the pid file does not exist (a fail2ban that stopped
	// cleanly removes it; one never started has none).
	Missing bool
}

// Probe reads the pid file and inspects the process it names.
func Probe(pidFile string) Server {
	data, err := readSmall(pidFile, 64)
	if errors.Is(err, fs.ErrNotExist) {
		return Server{Missing: true, Why: "no pid file " + pidFile}
	}
	if err != nil {
		return Server{Why: err.Error()}
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return Server{Why: fmt.Sprintf("pid file %s does not hold a process id", pidFile)}
	}
	dir := filepath.Join(procDir, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if errors.Is(err, fs.ErrNotExist) {
		// /proc mounted with hidepid hides the processes of other users:
		// only the kernel's "no such process" tells that there is none.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			return Server{Why: fmt.Sprintf("process %d of pid file %s cannot be inspected in %s", pid, pidFile, procDir)}
		}
		return Server{Known: true, Why: fmt.Sprintf("no process %d for pid file %s", pid, pidFile)}
	}
	if err != nil {
		return Server{Why: fmt.Sprintf("process %d of pid file %s: %v", pid, pidFile, err)}
	}
	state, ticks, err := parseStat(stat)
	if err != nil {
		return Server{Why: fmt.Sprintf("process %d of pid file %s: %v", pid, pidFile, err)}
	}
	if state == "Z" || state == "X" {
		return Server{Known: true, Why: fmt.Sprintf("process %d of pid file %s has ended", pid, pidFile)}
	}
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return Server{Why: fmt.Sprintf("process %d of pid file %s: %v", pid, pidFile, err)}
	}
	if !isServer(cmdline) {
		return Server{Known: true, Why: fmt.Sprintf("process %d of pid file %s is not %s", pid, pidFile, ServerName)}
	}
	boot, err := bootTime()
	if err != nil {
		return Server{Why: err.Error()}
	}
	started := boot.Add(time.Duration(ticks) * (time.Second / clockTicks))
	return Server{Known: true, Running: true, Started: started}
}

// readSmall reads at most n bytes of name, a regular file.
func readSmall(name string, n int64) ([]byte, error) {
	f, err := fsguard.Open(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// parseStat returns the state and the start time (in clock ticks after
// boot) of /proc/PID/stat. The command name, in parentheses, may hold
// spaces and parentheses: the fields follow its last ')'.
func parseStat(stat []byte) (state string, ticks uint64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After the name: state (field 3) ... starttime (field 22).
	if len(f) < 20 {
		return "", 0, errors.New("unreadable /proc stat")
	}
	ticks, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return "", 0, errors.New("unreadable /proc stat")
	}
	return f[0], ticks, nil
}

// isServer reports whether a process's command line runs fail2ban-server:
// the program itself, or the interpreter that runs its script.
func isServer(cmdline []byte) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	for i, a := range args {
		if i > 1 && !strings.HasPrefix(args[i-1], "-") {
			break // past "python3 [-flags] /usr/bin/fail2ban-server"
		}
		if filepath.Base(a) == ServerName {
			return true
		}
	}
	return false
}

// bootTime is when the machine booted: now less the uptime, from
// /proc/uptime, to a hundredth of a second (/proc/stat's btime is in whole
// seconds).
func bootTime() (time.Time, error) {
	now := time.Now()
	data, err := os.ReadFile(filepath.Join(procDir, "uptime"))
	if err != nil {
		return time.Time{}, fmt.Errorf("uptime: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return time.Time{}, errors.New("uptime: /proc/uptime is empty")
	}
	up, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("uptime: %w", err)
	}
	return now.Add(-time.Duration(up * float64(time.Second))), nil
}

// Status is what a report without bans can say of fail2ban.
type Status struct {
	// Known is false when nothing can be said of fail2ban.
	Known bool
	// Running: its server runs. Why says, when not, what shows it.
	Running bool
	Why     string
	// Started is when its server started (Running only).
	Started time.Time
	// Jails are the jails started since the server started and not
	// stopped since, sorted, when JailsKnown: the server runs, and the
	// jails file is whole and was not replaced since the server started.
	Jails      []string
	JailsKnown bool
}

// Check tells whether fail2ban runs, from pidFile, and which jails, from
// dir's jails file. A missing pid file says fail2ban is not running only
// when the jails file says every jail stopped (a fail2ban that stops cleanly
// stops its jails and removes its pid file); else nothing is known.
func Check(dir, pidFile string) Status {
	srv := Probe(pidFile)
	s, err := Read(dir)
	if err != nil {
		s = nil
	}
	// Records are whole since the later of a damaged file's replacement
	// and the last start or stop that could not be recorded.
	var whole time.Time
	if s != nil {
		whole = s.Reset
		if lost, ok := Lost(dir); ok {
			if lost.IsZero() {
				lost = time.Now() // unreadable: incomplete until the next server
			}
			whole = maxTime(whole, lost)
		}
	}
	switch {
	case srv.Running:
		st := Status{Known: true, Running: true, Started: srv.Started}
		since := srv.Started.Add(-startSlack)
		if s == nil || len(s.Jails) == 0 || !whole.Before(since) {
			return st // no records, or some lost since the server started
		}
		st.Jails = []string{}
		for _, j := range s.Jails {
			if j.Running(since) {
				st.Jails = append(st.Jails, j.Name)
			}
		}
		st.JailsKnown = true
		return st
	case srv.Known:
		return Status{Known: true, Why: srv.Why}
	case srv.Missing && s != nil && len(s.Jails) > 0:
		var last time.Time
		for _, j := range s.Jails {
			if j.Running(time.Time{}) {
				return Status{} // a jail that never stopped: a pid file elsewhere, or a killed fail2ban
			}
			last = maxTime(last, j.Stopped)
		}
		if !whole.Before(last) {
			return Status{} // a start may have been lost since the last stop
		}
		return Status{Known: true, Why: srv.Why + ", and every jail stopped"}
	}
	return Status{}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
