// Package jailstate records which jails fail2ban started and stopped, and
// tells whether fail2ban's server runs, so that a report without bans can
// say how many jails are watching.
//
// fail2ban runs `f2b-notify start` when a jail starts and `f2b-notify stop`
// when it stops; each writes the jail's line in BUFFER_DIR/jails (see File),
// a small file replaced whole under a lock of its own. A fail2ban that is
// killed runs no stop, so a start record only counts when it is later than
// the start of the fail2ban-server process that the pid file names (see
// Probe). Whatever is damaged or unreadable means "unknown", never a failure
// of start or stop; a start or stop that cannot be recorded leaves its time
// in LostFile, and the jails are unknown until the server starts again.
package jailstate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// Files in the buffer folder.
const (
	File     = "jails"      // one line per jail: when it last started and stopped
	LockFile = "jails.lock" // held while File is read and replaced
	// LostFile holds the time of the last start or stop that could not be
	// recorded: File is incomplete before then (see Check).
	LostFile = "jails.lost"
)

// MaxJails bounds the jails File keeps: beyond it, the jails whose last
// start or stop is the oldest are forgotten, stopped ones first.
const MaxJails = 1000

// maxFileSize bounds what Read reads: a larger file is damaged.
const maxFileSize = 512 << 10

// LockWait bounds how long Record waits for the lock: fail2ban runs one
// action command at a time and start and stop must stay fast.
const LockWait = 500 * time.Millisecond

// header is the first line of File; reset is the line that says since when
// records are whole again after a damaged file was replaced.
const (
	header    = "f2b-notify jails 1"
	resetWord = "reset"
	none      = "-"
)

// Jail is one jail's line: when it last started and stopped (zero: never
// recorded).
type Jail struct {
	Name             string
	Started, Stopped time.Time
}

// Running reports whether the jail started at or after since and has not
// stopped since that start.
func (j Jail) Running(since time.Time) bool {
	return !j.Started.IsZero() && !j.Started.Before(since) && j.Stopped.Before(j.Started)
}

// State is what File holds.
type State struct {
	// Reset is when a damaged file was replaced: the records of jails
	// started before then are lost (zero: never).
	Reset time.Time
	Jails []Jail // sorted by name
}

// ErrDamaged is wrapped by Read's error when File is not as Record writes it.
var ErrDamaged = errors.New("damaged")

// Read reads dir's File. A missing file is an empty State; a damaged one is
// an error wrapping ErrDamaged.
func Read(dir string) (*State, error) {
	name := filepath.Join(dir, File)
	f, err := fsguard.Open(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read jails file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read jails file %s: %w", name, err)
	}
	s, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("read jails file %s: %w", name, err)
	}
	return s, nil
}

func parse(data []byte) (*State, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrDamaged, maxFileSize)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxFileSize+1)
	if !sc.Scan() || sc.Text() != header {
		return nil, fmt.Errorf("%w: first line is not %q", ErrDamaged, header)
	}
	s := &State{}
	seen := map[string]bool{}
	for n := 2; sc.Scan(); n++ {
		line := sc.Text()
		if at, ok := strings.CutPrefix(line, resetWord+" "); ok && n == 2 {
			t, err := time.Parse(time.RFC3339Nano, at)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrDamaged, n, err)
			}
			s.Reset = t
			continue
		}
		j, err := parseLine(line)
		if err != nil || seen[j.Name] || len(s.Jails) == MaxJails {
			return nil, fmt.Errorf("%w: line %d", ErrDamaged, n)
		}
		seen[j.Name] = true
		s.Jails = append(s.Jails, j)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		return nil, fmt.Errorf("%w: cut short", ErrDamaged)
	}
	slices.SortFunc(s.Jails, func(a, b Jail) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

// parseLine parses "STARTED<TAB>STOPPED<TAB>NAME", times in RFC 3339 or "-".
func parseLine(line string) (Jail, error) {
	parts := strings.SplitN(line, "\t", 3)
	if len(parts) != 3 || parts[2] == "" || strings.ContainsFunc(parts[2], func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Jail{}, ErrDamaged
	}
	j := Jail{Name: parts[2]}
	for i, p := range []*time.Time{&j.Started, &j.Stopped} {
		if parts[i] == none {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, parts[i])
		if err != nil {
			return Jail{}, err
		}
		*p = t
	}
	return j, nil
}

func (s *State) encode() []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	if !s.Reset.IsZero() {
		b.WriteString(resetWord + " " + s.Reset.UTC().Format(time.RFC3339Nano) + "\n")
	}
	for _, j := range s.Jails {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", stamp(j.Started), stamp(j.Stopped), j.Name)
	}
	return b.Bytes()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Record writes in dir's File that jail started (started true) or stopped
// at now. A damaged file is replaced by one that says when (State.Reset).
// It waits for the lock at most LockWait; a stop in a folder that does not
// exist records nothing. When it cannot record, it writes
// now in LostFile, if it can, so that File is known to be incomplete.
func Record(dir, jail string, started bool, now time.Time, fsync bool) error {
	if _, err := os.Stat(dir); !started && errors.Is(err, fs.ErrNotExist) {
		return nil // no folder: no start was recorded for this stop to end
	}
	err := store(dir, jail, started, now, fsync)
	if err != nil {
		if f, lerr := fsguard.Open(filepath.Join(dir, LostFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); lerr == nil {
			_, _ = f.WriteString(now.UTC().Format(time.RFC3339Nano) + "\n")
			f.Close()
		}
	}
	return err
}

// Lost returns the time in dir's LostFile: ok is false when there is none;
// a file that holds no time gives the zero time and ok, which Check reads
// as "incomplete until now".
func Lost(dir string) (at time.Time, ok bool) {
	data, err := readSmall(filepath.Join(dir, LostFile), 128)
	if err != nil {
		return time.Time{}, !errors.Is(err, fs.ErrNotExist)
	}
	at, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(data)))
	return at, true
}

func store(dir, jail string, started bool, now time.Time, fsync bool) error {
	lock := filepath.Join(dir, LockFile)
	unlock, ok, err := buffer.LockFor(lock, LockWait)
	if err != nil {
		return fmt.Errorf("lock jails file %s: %w", lock, err)
	}
	if !ok {
		return fmt.Errorf("lock jails file %s: still held by another process after %v", lock, LockWait)
	}
	defer unlock()

	// Only the holder of the lock writes File's temporary files: any there
	// now is what a start or stop killed mid-write left.
	if stale, err := filepath.Glob(filepath.Join(dir, File+".tmp*")); err == nil {
		for _, name := range stale {
			_ = os.Remove(name)
		}
	}
	s, err := Read(dir)
	if errors.Is(err, ErrDamaged) {
		s = &State{Reset: now}
	} else if err != nil {
		return err
	}
	s.set(jail, started, now)
	if err := fsguard.WriteFileAtomic(filepath.Join(dir, File), s.encode(), 0o600, fsync); err != nil {
		return fmt.Errorf("jails file: %w", err)
	}
	return nil
}

// set records the start or stop of jail at now, and keeps MaxJails at most.
func (s *State) set(jail string, started bool, now time.Time) {
	i, found := slices.BinarySearchFunc(s.Jails, jail, func(j Jail, name string) int { return strings.Compare(j.Name, name) })
	if !found {
		s.Jails = slices.Insert(s.Jails, i, Jail{Name: jail})
	}
	if started {
		s.Jails[i].Started = now
	} else {
		s.Jails[i].Stopped = now
	}
	for len(s.Jails) > MaxJails {
		i := s.oldest()
		s.Jails = slices.Delete(s.Jails, i, i+1)
	}
}

// oldest is the index of the jail to forget first: a stopped one before a
// running one, then the one whose last start or stop is the oldest.
func (s *State) oldest() int {
	last := func(j Jail) time.Time {
		if j.Started.After(j.Stopped) {
			return j.Started
		}
		return j.Stopped
	}
	best := 0
	for i, j := range s.Jails {
		b := s.Jails[best]
		jr, br := j.Running(time.Time{}), b.Running(time.Time{})
		if jr != br {
			if !jr {
				best = i
			}
			continue
		}
		if last(j).Before(last(b)) {
			best = i
		}
	}
	return best
}
