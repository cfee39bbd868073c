//go:build integration

package reliability

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// fail2bansTimeout is the timeout of the shipped action: fail2ban kills an
// action command that runs longer, and runs it once more.
const fail2bansTimeout = 30 * time.Second

// lockedSite is a site with a file channel and fsync on, its buffer folder
// created so that another process can take its lock.
func lockedSite(t *testing.T, reports string) *site {
	t.Helper()
	s := newSite(t, siteOptions{fsync: true, extra: "  max_offenders: 0 # every address in the report",
		channels: "  log:\n    type: file\n    retries: 0\n    path: " + reports + "\n"})
	if err := os.MkdirAll(s.buf, 0o750); err != nil {
		t.Fatal(err)
	}
	return s
}

// lockHeld reports whether some process holds the buffer lock of s.
func lockHeld(t *testing.T, s *site) bool {
	t.Helper()
	l := flock.New(filepath.Join(s.buf, buffer.LockFile))
	ok, err := l.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		_ = l.Unlock()
	}
	return !ok
}

// holdLock takes the buffer lock of s in this process (the bans and flushes
// under test are other processes) and returns its release.
func holdLock(t testing.TB, s *site) (release func()) {
	t.Helper()
	return testenv.HoldLock(t, filepath.Join(s.buf, buffer.LockFile))
}

// TestBansWhileTheLockIsHeldLongerThanFail2bansTimeout holds the buffer lock
// from another process (util-linux flock running sleep) for longer than
// fail2ban's action timeout, while 8 processes ban one after the other with
// both binaries. Every ban must exit 0 well within fail2ban's timeout, and
// once the lock is free one flush delivers every ban exactly once.
func TestBansWhileTheLockIsHeldLongerThanFail2bansTimeout(t *testing.T) {
	flockCmd := testenv.NeedCommand(t, "flock", "util-linux")
	hold := fail2bansTimeout + 5*time.Second
	reports := filepath.Join(t.TempDir(), "reports.txt")
	s := lockedSite(t, reports)
	holder := background(t, proc{argv: []string{flockCmd, filepath.Join(s.buf, buffer.LockFile), "sleep", fmt.Sprint(hold.Seconds())}})
	for deadline := time.Now().Add(10 * time.Second); !lockHeld(t, s); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("flock did not take the buffer lock within 10s")
		}
	}
	t0 := time.Now()

	progs := []string{binary}
	if banBinary != "" {
		progs = append(progs, banBinary)
	}
	const workers = 8
	var (
		mu      sync.Mutex
		banned  []string
		took    []time.Duration
		failed  int
		wg      sync.WaitGroup
		stopAt  = t0.Add(hold - 3*time.Second) // every ban starts and ends while the lock is held
		counter int
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prog := progs[w%len(progs)]
			for time.Now().Before(stopAt) {
				mu.Lock()
				ip := ipN(counter)
				counter++
				mu.Unlock()
				r := run(t, proc{argv: []string{prog, "--config", s.cfg, "ban", "--jail", "sshd", "--ip", ip, "--failures", "3", "--time", fmt.Sprint(time.Now().Unix())}, timeout: fail2bansTimeout})
				mu.Lock()
				took = append(took, r.Elapsed)
				if r.Code == 0 {
					banned = append(banned, ip)
				} else {
					failed++
					t.Errorf("%s ban %s while the lock is held: %v", filepath.Base(prog), ip, r)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if !lockHeld(t, s) {
		t.Fatalf("the lock was released after %v, before the bans ended: the test did not hold it long enough", time.Since(t0))
	}
	// status counts what waits in files of their own, and
	if r := s.cmd("status"); r.Code != 0 || !strings.Contains(r.Out, fmt.Sprintf("pending: %d records (%[1]d in files of their own", len(banned))) {
		t.Errorf("status while the lock is held, after %d bans: %v", len(banned), r)
	}
	// preview shows them in the next report.
	if r := s.cmd("preview"); r.Code != 0 || len(countIPs(r.Out)) != len(banned) {
		t.Errorf("preview while the lock is held shows %d of the %d bans: exit %d, stderr %q", len(countIPs(r.Out)), len(banned), r.Code, r.Err)
	}
	sides := len(s.pendingPaths()) - 1
	if r := holder.wait(t, hold+10*time.Second); r.Code != 0 {
		t.Fatalf("flock: %v", r)
	}
	held := time.Since(t0)

	fl := s.cmd("flush")
	if fl.Code != 0 {
		t.Fatalf("flush after the lock is released: %v", fl)
	}
	seen := countIPs(readFile(t, reports))
	lost, dup := deliveredOnce(t, "the report", seen, banned)
	if len(seen) != 0 {
		t.Errorf("the report holds %d addresses nobody banned: %v", len(seen), seen)
	}
	if left, _ := s.records(); len(left) != 0 {
		t.Errorf("after the flush %d records are still pending or spooled", len(left))
	}
	slices.Sort(took)
	longest := took[len(took)-1]
	if bound := 10 * time.Second; longest > bound {
		t.Errorf("the longest ban while the lock was held took %v; want under %v (fail2ban kills an action after %v)", longest, bound, fail2bansTimeout)
	}
	figures(t, "lock-held-past-timeout", len(banned)+failed, lost, dup, 0,
		fmt.Sprintf("held_s=%.1f", held.Seconds()), fmt.Sprintf("writers=%d", workers),
		fmt.Sprintf("ban_median_ms=%d", took[len(took)/2].Milliseconds()), fmt.Sprintf("ban_longest_ms=%d", longest.Milliseconds()),
		fmt.Sprintf("files_of_their_own=%d", sides), fmt.Sprintf("flush_ms=%d", fl.Elapsed.Milliseconds()), fmt.Sprintf("failed=%d", failed))
}

// TestKillsInTheBanPathWithoutTheLock kills the new path at both ends:
//   - a ban is killed with SIGKILL while it writes its record in a file of
//     its own (the lock held by this test process), at random moments
//     around the end of its lock wait, then run again as fail2ban does;
//   - a flush is killed while it moves such files into the spool.
//
// After each kill, every ban that exited 0 is pending or spooled exactly
// once (twice when a killed ban had finished its file and was run again) (the killed flushes have a channel that cannot deliver, so that a
// kill cannot come after a send), no file of its own is damaged, and after
// the lock is free and the channel fixed one flush delivers each ban once.
func TestKillsInTheBanPathWithoutTheLock(t *testing.T) {
	banKills, flushKills := 40, 40
	if full() {
		banKills, flushKills = 200, 200
	}
	dir := t.TempDir()
	// The channel writes into a folder that does not exist yet.
	reports := filepath.Join(dir, "later", "reports.txt")
	s := lockedSite(t, reports)
	progs := []string{binary}
	if banBinary != "" {
		progs = append(progs, banBinary)
	}
	var banned []string // bans that exited 0
	// Bans killed after their file was whole, then run again: stored twice,
	// and reported once (the digest drops fail2ban's repeats).
	twice := map[string]bool{}
	next := 0
	banArgs := func(prog, ip string) proc {
		return proc{argv: []string{prog, "--config", s.cfg, "ban", "--jail", "sshd", "--ip", ip, "--failures", "2", "--time", "1795628212"}}
	}
	// Each acknowledged ban is in exactly one place, and no whole file
	// of its own is damaged.
	check := func(when string) {
		t.Helper()
		recs, st := s.records()
		if st.Torn != 0 {
			t.Errorf("%s: %d damaged lines in the buffer", when, st.Torn)
		}
		n := map[string]int{}
		for _, r := range recs {
			n[r.IP]++
		}
		for _, ip := range banned {
			if n[ip] != 1 && !(twice[ip] && n[ip] == 2) {
				t.Errorf("%s: %s is stored %d times, want once", when, ip, n[ip])
			}
		}
	}

	// Kill -9 of a ban around the moment it gives up waiting and writes
	// its own file: first, how long does such a ban take?
	release := holdLock(t, s)
	var calib []time.Duration
	for range 5 {
		ip := ipN(next)
		next++
		r := run(t, banArgs(binary, ip))
		if r.Code != 0 {
			t.Fatalf("ban while the lock is held: %v", r)
		}
		banned = append(banned, ip)
		calib = append(calib, r.Elapsed)
	}
	slices.Sort(calib)
	typical := calib[len(calib)/2]
	banPhases := map[string]int{}
	for k := range banKills {
		ip := ipN(next)
		next++
		prog := progs[k%len(progs)]
		before := len(s.pendingPaths())
		tmpsBefore, _ := filepath.Glob(filepath.Join(s.buf, "pending.*.tmp"))
		b := background(t, banArgs(prog, ip))
		// Around the end of the lock wait: from 20 ms before the ban
		// usually ends to 5 ms after.
		delay := typical - 20*time.Millisecond + time.Duration(rand.Int64N(int64(25*time.Millisecond)))
		time.Sleep(delay)
		exited := false
		select {
		case <-b.done:
			exited = true
		default:
		}
		_ = syscall.Kill(b.cmd.Process.Pid, syscall.SIGKILL)
		r := b.wait(t, 10*time.Second)
		tmps, _ := filepath.Glob(filepath.Join(s.buf, "pending.*.tmp"))
		after := len(s.pendingPaths())
		switch {
		case exited || r.Code == 0:
			banPhases["finished"]++
			banned = append(banned, ip)
			continue
		case len(tmps) > len(tmpsBefore):
			banPhases["writing-own-file"]++
		case after > before:
			banPhases["after-rename"]++
			twice[ip] = true
		default:
			banPhases["waiting-for-lock"]++
		}
		// Killed: fail2ban runs the action again.
		if r := run(t, banArgs(prog, ip)); r.Code != 0 {
			t.Fatalf("ban %s again after a kill: %v", ip, r)
		}
		banned = append(banned, ip)
	}
	check("after the ban kills")

	// Kill -9 of a flush while it moves the files into the spool. The
	// files come from bans run while the lock is held: 4 by the binaries,
	// and 60 more stored here the way they store them, so that moving
	// them takes long enough for kills to land in the middle.
	flushPhases := map[string]int{}
	var claimAt time.Duration
	calib = nil
	direct := buffer.New(s.buf, false)
	direct.LockWait = time.Nanosecond // the lock is held: straight to a file of its own
	for k := range flushKills {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for w := range 4 {
			ip := ipN(next)
			next++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := run(t, banArgs(progs[w%len(progs)], ip)); r.Code != 0 {
					t.Errorf("ban while the lock is held: %v", r)
					return
				}
				mu.Lock()
				banned = append(banned, ip)
				mu.Unlock()
			}()
		}
		for range 60 {
			ip := ipN(next)
			next++
			r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Failures: 2, Time: 1795628212}
			if err := direct.Append(r); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			banned = append(banned, ip)
			mu.Unlock()
		}
		wg.Wait()
		release()
		sidesBefore := len(s.pendingPaths()) - 1
		t0 := time.Now()
		f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
		if k < 3 {
			// Calibrate: how long until the first flushes have moved the
			// files (the median of 3)? They run to their end (the channel
			// fails, the batches stay).
			for len(s.pendingPaths()) > 1 && time.Since(t0) < 20*time.Second {
				time.Sleep(time.Millisecond)
			}
			calib = append(calib, time.Since(t0))
			slices.Sort(calib)
			claimAt = calib[len(calib)/2]
			if r := f.wait(t, time.Minute); r.Code != 1 {
				t.Fatalf("flush to a channel that cannot write: %v", r)
			}
			flushPhases["calibration"]++
		} else {
			// Up to a little after the claim usually ends; every
			// other kill close to it, where the files move.
			lo := time.Duration(0)
			if k%2 == 1 {
				lo = claimAt * 8 / 10
			}
			time.Sleep(lo + time.Duration(rand.Int64N(int64(claimAt*12/10-lo))))
			_ = syscall.Kill(f.cmd.Process.Pid, syscall.SIGKILL)
			r := f.wait(t, 10*time.Second)
			switch left := len(s.pendingPaths()) - 1; {
			case r.Code != -1:
				flushPhases["finished"]++
			case left == sidesBefore:
				flushPhases["before-claim"]++
			case left > 0:
				flushPhases["part-way"]++
			default:
				flushPhases["after-claim"]++
			}
		}
		check(fmt.Sprintf("after flush kill %d", k))
		release = holdLock(t, s)
	}
	release()

	// The channel is fixed; one flush delivers everything once.
	if err := os.MkdirAll(filepath.Dir(reports), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := s.cmd("flush"); r.Code != 0 {
		t.Fatalf("clean flush: %v", r)
	}
	lost, dup := deliveredOnce(t, "the report", countIPs(readFile(t, reports)), banned)
	if left, _ := s.records(); len(left) != 0 {
		t.Errorf("after the clean flush %d records are left", len(left))
	}
	phases := func(m map[string]int) string {
		var out []string
		for k, v := range m {
			out = append(out, fmt.Sprintf("%s:%d", k, v))
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	figures(t, "kill-in-lockless-path", len(banned), lost, dup, 0,
		fmt.Sprintf("ban_kills=%d", banKills), "ban_phases="+phases(banPhases),
		fmt.Sprintf("flush_kills=%d", flushKills-3), "flush_phases="+phases(flushPhases),
		fmt.Sprintf("claim_ms=%d", claimAt.Milliseconds()))
}
