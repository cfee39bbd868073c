package jailstate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

func record(t *testing.T, dir, jail string, started bool, at time.Time) {
	t.Helper()
	if err := Record(dir, jail, started, at, false); err != nil {
		t.Fatal(err)
	}
}

func running(t *testing.T, dir string, since time.Time) []string {
	t.Helper()
	s, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range s.Jails {
		if j.Running(since) {
			names = append(names, j.Name)
		}
	}
	return names
}

// TestStartStopRestart: a start makes a jail run, a stop ends it, a start
// after the stop (fail2ban-client restart JAIL) makes it run again; a
// start before the server's start does not count.
func TestStartStopRestart(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	if got := running(t, dir, t0); got != nil {
		t.Fatalf("no file: running %v, want none", got)
	}
	record(t, dir, "sshd", true, t0.Add(time.Second))
	record(t, dir, "nginx http", true, t0.Add(2*time.Second))
	record(t, dir, "postfix", true, t0.Add(-time.Hour)) // a start of an earlier server
	if got, want := running(t, dir, t0), []string{"nginx http", "sshd"}; !slices.Equal(got, want) {
		t.Fatalf("running %v, want %v", got, want)
	}
	record(t, dir, "sshd", false, t0.Add(3*time.Second))
	if got, want := running(t, dir, t0), []string{"nginx http"}; !slices.Equal(got, want) {
		t.Fatalf("after stop: running %v, want %v", got, want)
	}
	record(t, dir, "sshd", true, t0.Add(4*time.Second))
	if got, want := running(t, dir, t0), []string{"nginx http", "sshd"}; !slices.Equal(got, want) {
		t.Fatalf("after restart: running %v, want %v", got, want)
	}
	// A start killed mid-write left its temporary file: the next removes it.
	stale := filepath.Join(dir, File+".tmp12345")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	record(t, dir, "sshd", true, t0.Add(4*time.Second))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", stale, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, File))
	want := "f2b-notify jails 1\n" +
		"2026-12-01T20:00:02Z\t-\tnginx http\n" +
		"2026-12-01T19:00:00Z\t-\tpostfix\n" +
		"2026-12-01T20:00:04Z\t2026-12-01T20:00:03Z\tsshd\n"
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, File)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v (%v), want 0600", fi.Mode(), err)
	}
}

// TestStopWithoutFolder: a stop in a buffer folder that does not exist
// (no start ever made it) records nothing, creates nothing and is no
// error; a start there is an error (start creates the folder first).
func TestStopWithoutFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	if err := Record(dir, "sshd", false, time.Now(), false); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := Record(dir, "sshd", true, time.Now(), false); err == nil {
		t.Error("start in a missing folder: no error")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the folder was created (%v)", err)
	}
}

// TestDamagedFile: a damaged file is an error on read (unknown), and the
// next start replaces it with one that says since when records are whole.
func TestDamagedFile(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	for name, content := range map[string]string{
		"garbage":       "\x00\x01garbage",
		"empty":         "",
		"cut short":     "f2b-notify jails 1\n2026-12-01T20:00:02Z\t-\tss",
		"bad time":      "f2b-notify jails 1\nyesterday\t-\tsshd\n",
		"no name":       "f2b-notify jails 1\n2026-12-01T20:00:02Z\t-\t\n",
		"twice":         "f2b-notify jails 1\n2026-12-01T20:00:02Z\t-\tsshd\n2026-12-01T20:00:02Z\t-\tsshd\n",
		"other version": "f2b-notify jails 2\n",
		"too large":     "f2b-notify jails 1\n" + strings.Repeat("2026-12-01T20:00:02Z\t-\t"+strings.Repeat("x", 200)+"\n", 3000),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, File), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), filepath.Join(dir, File)) {
				t.Fatalf("read: %v, want an error that names the file and says damaged", err)
			}
			record(t, dir, "sshd", true, t0)
			s, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Reset.Equal(t0) || len(s.Jails) != 1 || s.Jails[0].Name != "sshd" {
				t.Errorf("after the start: %+v, want reset at %v and sshd alone", s, t0)
			}
		})
	}
}

// TestBounded: the file keeps MaxJails jails at most, forgetting the
// stopped ones that stopped longest ago first, then the oldest running.
func TestBounded(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	// Written whole, as MaxJails starts would leave it, to stay fast.
	s := &State{}
	for i := range MaxJails {
		s.Jails = append(s.Jails, Jail{Name: fmt.Sprintf("j%04d", i), Started: t0.Add(time.Duration(i) * time.Second)})
	}
	s.Jails[500].Stopped = t0.Add(time.Hour)
	if err := os.WriteFile(filepath.Join(dir, File), s.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	record(t, dir, "new", true, t0.Add(2*time.Hour))
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, j := range got.Jails {
		names[j.Name] = true
	}
	if len(got.Jails) != MaxJails || names["j0500"] || !names["new"] || !names["j0000"] {
		t.Fatalf("%d jails, j0500 %v, new %v, j0000 %v: want %d, the stopped one forgotten", len(got.Jails), names["j0500"], names["new"], names["j0000"], MaxJails)
	}
	record(t, dir, "newer", true, t0.Add(3*time.Hour))
	if got, _ := Read(dir); len(got.Jails) != MaxJails || slices.ContainsFunc(got.Jails, func(j Jail) bool { return j.Name == "j0000" }) {
		t.Fatalf("then: j0000, the oldest start, should be forgotten")
	}
}

// TestRecordDoesNotWaitLong: a lock that another process holds makes
// Record give up after LockWait with an error naming the lock.
func TestRecordDoesNotWaitLong(t *testing.T) {
	dir := t.TempDir()
	l := flock.New(filepath.Join(dir, LockFile))
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	start := time.Now()
	err := Record(dir, "sshd", true, start, false)
	if err == nil || !strings.Contains(err.Error(), LockFile) {
		t.Fatalf("err %v, want one naming the lock", err)
	}
	if el := time.Since(start); el > LockWait+5*time.Second {
		t.Errorf("took %v, want about %v", el, LockWait)
	}
}

func writePid(t *testing.T, pid int) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fail2ban.pid")
	if err := os.WriteFile(name, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// fakeServer runs a program whose name is fail2ban-server (a copy of
// sleep) and returns its pid.
func fakeServer(t *testing.T) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), ServerName)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

// TestProbe: what the pid file says of fail2ban's server.
func TestProbe(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "fail2ban.pid")
	if err := os.WriteFile(garbage, []byte("not a pid"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "fail2ban.pid")
	before := time.Now()
	server := writePid(t, fakeServer(t))
	for _, c := range []struct {
		name           string
		pidFile        string
		known, running bool
		why            string
	}{
		{"missing", missing, false, false, "no pid file " + missing},
		{"garbage", garbage, false, false, "does not hold a process id"},
		{"dead process", writePid(t, dead.Process.Pid), true, false, fmt.Sprintf("no process %d for pid file ", dead.Process.Pid)},
		{"not fail2ban", writePid(t, os.Getpid()), true, false, fmt.Sprintf("process %d of pid file ", os.Getpid())},
		{"fail2ban-server", server, true, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Probe(c.pidFile)
			if got.Known != c.known || got.Running != c.running || !strings.Contains(got.Why, c.why) {
				t.Fatalf("%+v, want known %v running %v why %q", got, c.known, c.running, c.why)
			}
			if c.running && (got.Started.Before(before.Add(-startSlack)) || got.Started.After(time.Now().Add(startSlack))) {
				t.Errorf("started %v, want about %v", got.Started, before)
			}
		})
	}
}

// TestCheck: the jails running are those started since the server
// started; a pid file whose process is not fail2ban-server, or none, says
// fail2ban is not running; a missing pid file says so only when every
// jail stopped; records lost since the server started say nothing.
func TestCheck(t *testing.T) {
	server := writePid(t, fakeServer(t))
	now := time.Now()
	dir := t.TempDir()
	if st := Check(dir, server); !st.Known || !st.Running || st.JailsKnown {
		t.Errorf("no records: %+v, want running, jails unknown", st)
	}
	record(t, dir, "old", true, now.Add(-time.Hour)) // an earlier server's, which was killed
	record(t, dir, "sshd", true, now)
	record(t, dir, "recidive", true, now)
	if st := Check(dir, server); !st.Running || !st.JailsKnown || !slices.Equal(st.Jails, []string{"recidive", "sshd"}) {
		t.Errorf("%+v, want recidive and sshd running", st)
	}
	record(t, dir, "sshd", false, now.Add(time.Millisecond))
	record(t, dir, "recidive", false, now.Add(time.Millisecond))
	if st := Check(dir, server); !st.Running || !st.JailsKnown || len(st.Jails) != 0 {
		t.Errorf("%+v, want running with no jail", st)
	}

	notF2b := writePid(t, os.Getpid())
	if st := Check(dir, notF2b); !st.Known || st.Running || !strings.Contains(st.Why, "is not fail2ban-server") {
		t.Errorf("pid of a process that is not fail2ban: %+v, want not running", st)
	}

	missing := filepath.Join(t.TempDir(), "fail2ban.pid")
	if st := Check(dir, missing); st.Known {
		t.Errorf("missing pid file, a jail never stopped (old): %+v, want unknown", st)
	}
	record(t, dir, "old", false, now)
	if st := Check(dir, missing); !st.Known || st.Running || st.Why != "no pid file "+missing+", and every jail stopped" {
		t.Errorf("missing pid file, every jail stopped: %+v, want not running", st)
	}
	if st := Check(t.TempDir(), missing); st.Known {
		t.Errorf("missing pid file, no records: %+v, want unknown", st)
	}

	// A damaged file, replaced since the server started: records lost.
	if err := os.WriteFile(filepath.Join(dir, File), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := Check(dir, server); !st.Running || st.JailsKnown {
		t.Errorf("damaged: %+v, want running, jails unknown", st)
	}
	record(t, dir, "sshd", true, time.Now())
	if st := Check(dir, server); !st.Running || st.JailsKnown {
		t.Errorf("replaced since the server started: %+v, want running, jails unknown", st)
	}
}

// BenchmarkRecord is the cost a start or stop adds: the lock, the read and
// the atomic replacement of a file of 20 jails.
func BenchmarkRecord(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			dir := b.TempDir()
			now := time.Now()
			for i := range 20 {
				if err := Record(dir, fmt.Sprintf("jail%d", i), true, now, false); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				if err := Record(dir, fmt.Sprintf("jail%d", i%20), i%2 == 0, now, fsync); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck is what a flush spends to know of fail2ban: the pid file,
// /proc and the jails file of 20 jails.
func BenchmarkCheck(b *testing.B) {
	dir := b.TempDir()
	for i := range 20 {
		if err := Record(dir, fmt.Sprintf("jail%d", i), true, time.Now(), false); err != nil {
			b.Fatal(err)
		}
	}
	pidFile := filepath.Join(b.TempDir(), "fail2ban.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if st := Check(dir, pidFile); !st.Known {
			b.Fatal(st)
		}
	}
}

// TestLostRecordMakesJailsUnknown: a stop that could not be recorded (the
// lock held past LockWait) leaves its time in LostFile, and the jails are
// then unknown until fail2ban's server starts after it: the jail it stopped
// is not counted as running.
func TestLostRecordMakesJailsUnknown(t *testing.T) {
	dir := t.TempDir()
	server := writePid(t, fakeServer(t))
	record(t, dir, "sshd", true, time.Now())
	if st := Check(dir, server); !st.JailsKnown || !slices.Equal(st.Jails, []string{"sshd"}) {
		t.Fatalf("%+v, want sshd running", st)
	}
	l := flock.New(filepath.Join(dir, LockFile))
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := Record(dir, "sshd", false, at, false); err == nil {
		t.Fatal("the stop was recorded under a lock held by another")
	}
	l.Unlock()
	if lost, ok := Lost(dir); !ok || !lost.Equal(at) {
		t.Fatalf("lost %v %v, want %v", lost, ok, at)
	}
	if st := Check(dir, server); !st.Running || st.JailsKnown {
		t.Errorf("after a lost stop: %+v, want running, jails unknown", st)
	}
	// The records of a server started after the loss (and the slack) are
	// whole again.
	time.Sleep(2 * startSlack)
	later := writePid(t, fakeServer(t))
	record(t, dir, "sshd", true, time.Now())
	if st := Check(dir, later); !st.JailsKnown || !slices.Equal(st.Jails, []string{"sshd"}) {
		t.Errorf("a server started after the loss: %+v, want sshd running", st)
	}
}
