//go:build integration

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowSite has a file channel, log, and a sendmail channel, mail, whose
// sendmail takes delay, so that a flush holds its lock that long.
func slowSite(t *testing.T, delay time.Duration, fsync bool) (s *site, mailDir string) {
	t.Helper()
	sendmail, mailDir := fakeSendmail(t, t.TempDir(), delay)
	s = newSite(t, siteOptions{fsync: fsync, channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  mail:
    type: sendmail
%s    from: f2b@localhost
    to: [root@localhost]
`, sendmail)})
	return s, mailDir
}

// waitClaimed waits until a running flush has claimed the pending bans.
func waitClaimed(t *testing.T, s *site) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(s.pendingPath()); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the flush did not claim the pending bans within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mailCounts counts the addresses in the messages a fake sendmail kept.
func mailCounts(t *testing.T, mailDir string, into map[string]int) {
	t.Helper()
	for _, raw := range mailsIn(t, mailDir) {
		m, err := parseMail(raw)
		if err != nil {
			t.Errorf("a message does not parse: %v", err)
			continue
		}
		for ip, n := range countIPs(m.Text) {
			into[ip] += n
		}
	}
}

// TestCommandsDuringAFlush runs every command while a flush is busy sending
// (its sendmail takes 3 s): a second flush leaves at once, bans are stored
// without waiting for the flush, preview and status answer. Nothing may
// wait for the flush to end, and everything is delivered once afterwards.
func TestCommandsDuringAFlush(t *testing.T) {
	s, mailDir := slowSite(t, 3*time.Second, true)
	want := s.appendBans(5, 1)
	first := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
	waitClaimed(t, s)

	bound := 2 * time.Second // each command; the flush takes 3s more
	var slowest time.Duration
	check := func(what string, r result, wantOut string) {
		t.Helper()
		slowest = max(slowest, r.Elapsed)
		if r.Code != 0 || !strings.Contains(r.Out, wantOut) {
			t.Errorf("%s during a flush: %v", what, r)
		}
		if r.Elapsed > bound {
			t.Errorf("%s during a flush took %v: it waited for the flush", what, r.Elapsed)
		}
	}
	check("second flush", s.cmd("flush", "-v"), "another flush is running")
	for i := range 5 {
		ip := ipN(100 + i)
		prog := binary
		if i%2 == 1 && banBinary != "" {
			prog = banBinary
		}
		check("ban", s.ban(prog, "--jail", "sshd", "--ip", ip), "")
		want = append(want, ip)
	}
	check("status", s.cmd("status"), "pending: 5 records")
	check("preview", s.cmd("preview", "--channel", "log"), ipN(100))
	check("flush --if-flag", s.cmd("flush", "--if-flag"), "")

	if r := first.wait(t, 30*time.Second); r.Code != 0 {
		t.Fatalf("the first flush: %v", r)
	}
	if r := s.cmd("flush"); r.Code != 0 {
		t.Fatalf("the flush after: %v", r)
	}
	logs := countIPs(readFile(t, filepath.Join(s.dir, "reports.txt")))
	mails := map[string]int{}
	mailCounts(t, mailDir, mails)
	lost, dup := deliveredOnce(t, "log", logs, want)
	l, d := deliveredOnce(t, "mail", mails, want)
	lost, dup = lost+l, dup+d
	figures(t, "commands-during-flush", len(want), lost, dup, 0, fmt.Sprintf("slowest_command_ms=%d", slowest.Milliseconds()))
}

// TestNoStaleLockAfterKill kills a flush with SIGKILL while its sendmail
// child is still running, and runs the next flush at once: the flush lock
// died with the process (the child does not hold it), so the next flush
// runs instead of saying another one is running. It resends to the
// channel whose send was cut, which at-least-once allows.
func TestNoStaleLockAfterKill(t *testing.T) {
	s, mailDir := slowSite(t, 2*time.Second, true)
	want := s.appendBans(3, 1)
	f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
	waitClaimed(t, s)
	time.Sleep(300 * time.Millisecond) // the sendmail child is running now
	if err := syscall.Kill(f.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	f.wait(t, 10*time.Second)
	if !groupAlive(f.cmd.Process.Pid) {
		t.Fatal("the killed flush's sendmail is not running any more: the test did not kill mid-send")
	}
	r := s.cmd("flush", "-v")
	if r.Code != 0 || strings.Contains(r.Out, "another flush") {
		t.Fatalf("the flush after a kill -9 did not run: %v", r)
	}
	if !groupGone(f.cmd.Process.Pid, 10*time.Second) {
		t.Fatal("the orphaned sendmail did not finish")
	}
	logs := countIPs(readFile(t, filepath.Join(s.dir, "reports.txt")))
	mails := map[string]int{}
	mailCounts(t, mailDir, mails)
	lost, dup := 0, 0
	for _, ip := range want {
		if logs[ip] != 1 {
			t.Errorf("%s reached the file channel %d times, want 1", ip, logs[ip])
		}
		switch n := mails[ip]; {
		case n == 0:
			lost++
			t.Errorf("%s never reached the mail channel", ip)
		case n > 2:
			t.Errorf("%s reached the mail channel %d times; one crash between send and record allows 2", ip, n)
		}
		dup += max(logs[ip]-1, 0) + max(mails[ip]-1, 0)
	}
	if batches := s.ledger(); len(batches.Channels) == 0 {
		t.Error("no ledger after the flushes")
	}
	figures(t, "stale-lock-after-kill", len(want), lost, dup, 0, "next_flush_ran=1")
}
