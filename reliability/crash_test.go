//go:build integration

package reliability

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// crashSinks counts, per channel, how often each address was delivered.
type crashSinks struct {
	t       *testing.T
	log     string // the file channel's file
	logRead int64  // how far the file has been counted: up to its last whole line
	mailDir string // where the fake sendmail keeps messages
	count   map[string]map[string]int
	torn    int // messages sendmail received cut short
}

const crashMailChannel, crashLogChannel = "mail", "log"

// refresh counts what reached both sinks since the last call, and returns a
// copy of the counts so far.
func (c *crashSinks) refresh() map[string]map[string]int {
	c.t.Helper()
	if f, err := os.Open(c.log); err == nil {
		data, err := io.ReadAll(io.NewSectionReader(f, c.logRead, 1<<40))
		f.Close()
		if err != nil {
			c.t.Fatal(err)
		}
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			for ip, n := range countIPs(string(data[:i+1])) {
				c.count[crashLogChannel][ip] += n
			}
			c.logRead += int64(i + 1)
		}
	}
	for _, raw := range mailsIn(c.t, c.mailDir) {
		m, err := parseMail(raw)
		if err != nil || m.Text == "" {
			// The flush died while piping the message: sendmail got it
			// cut short. Counted, and delivered again in full.
			c.torn++
			continue
		}
		for ip, n := range countIPs(m.Text) {
			c.count[crashMailChannel][ip] += n
		}
	}
	out := map[string]map[string]int{}
	for ch, m := range c.count {
		out[ch] = maps.Clone(m)
	}
	return out
}

// spoolState maps each spooled address to its batch, and tells which
// addresses are still pending.
func spoolState(t *testing.T, s *site) (batchOf map[string]string, pending map[string]bool, batches []buffer.Batch) {
	t.Helper()
	batchOf, pending = map[string]string{}, map[string]bool{}
	bs, err := buffer.New(s.buf, false).Batches()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if _, err := buffer.ScanFile(b.Path, func(r *buffer.Record) error { batchOf[r.IP] = b.ID; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range s.pendingPaths() {
		if _, err := buffer.ScanFile(p, func(r *buffer.Record) error { pending[r.IP] = true; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return batchOf, pending, bs
}

// TestCrashDuringFlush kills `f2b-notify flush` with SIGKILL at random
// moments, at least 200 times, while bans keep arriving (one in six through
// a file of its own, as when the buffer lock is busy), with two channels:
// a file and a (slow) sendmail. Only the flush process is killed: a sendmail
// it started finishes its delivery, as after a real crash. After every
// fourth kill a clean flush runs. Checked:
//   - no ban is lost: after each clean flush every ban so far reached both
//     channels;
//   - a channel gets a ban twice only when a kill came after that channel's
//     send and before its ledger record, and then once more only;
//   - no kill leaves a stale lock: the next flush always runs.
//
// The kill delay is random up to the median length of a whole flush here
// (every other kill after 80% of the time a flush takes to claim); each kill
// is classified by how far the flush got.
func TestCrashDuringFlush(t *testing.T) {
	kills, perKill := 200, 3
	if full() {
		kills = 1000
	}
	// fsync changes how long each step takes, not what a kill -9 leaves
	// behind (the page cache survives a process); the full run has it on.
	s, mailDir := slowSite(t, 15*time.Millisecond, full())
	sinks := &crashSinks{t: t, log: filepath.Join(s.dir, "reports.txt"), mailDir: mailDir,
		count: map[string]map[string]int{crashLogChannel: {}, crashMailChannel: {}}}
	channelsOf := []string{crashLogChannel, crashMailChannel}
	allowance := map[string]map[string]int{crashLogChannel: {}, crashMailChannel: {}}
	var banned []string
	next := 0
	banSome := func() {
		for i := range perKill {
			ip := ipN(next)
			next++
			if i == 0 && next%2 == 0 {
				// Every other round, one ban finds the lock busy and
				// goes into a file of its own.
				s.appendBanBeside("sshd", ip, 2)
			} else {
				s.appendBan("sshd", ip, 2)
			}
			banned = append(banned, ip)
		}
	}
	lost, dup, beyond := 0, 0, 0
	leftTmp := 0 // temporary files of a killed flush, seen after a clean flush
	checkAll := func(when string) {
		t.Helper()
		counts := sinks.refresh()
		for _, ch := range channelsOf {
			for _, ip := range banned {
				n := counts[ch][ip]
				switch {
				case n == 0:
					lost++
					t.Errorf("%s: %s never reached channel %s", when, ip, ch)
				case n > 1+allowance[ch][ip]:
					t.Errorf("%s: %s reached channel %s %d times; crashes between its send and its record allow %d", when, ip, ch, n, 1+allowance[ch][ip])
				}
			}
		}
	}
	cleanFlush := func(when string) {
		t.Helper()
		r := s.cmd("flush", "-v")
		if r.Code != 0 || strings.Contains(r.Out, "another flush") {
			t.Fatalf("%s: clean flush: %v", when, r)
		}
		batchOf, pending, _ := spoolState(t, s)
		if len(batchOf)+len(pending) != 0 {
			t.Fatalf("%s: after a clean flush %d records are spooled and %d pending", when, len(batchOf), len(pending))
		}
		// What a killed flush was writing: the ledger, the history, the
		// note of a flag it could not remove (kills spare the bans here).
		if tmps, _ := filepath.Glob(filepath.Join(s.buf, "*.tmp*")); len(tmps) > leftTmp {
			leftTmp = len(tmps)
		}
		checkAll(when)
	}

	// How long does a whole flush take here? Kills are spread over the
	// median length of the clean flushes so far.
	var took []time.Duration
	timedFlush := func(when string) {
		t0 := time.Now()
		cleanFlush(when)
		took = append(took, time.Since(t0))
	}
	median := func() time.Duration {
		c := slices.Clone(took)
		slices.Sort(c)
		return c[len(c)/2]
	}
	// And how long until it has claimed the pending bans? Half the kills
	// come after that, where there is more to break.
	var claimAt time.Duration
	for range 3 {
		banSome()
		t0 := time.Now()
		f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
		waitClaimed(t, s)
		claimAt = max(claimAt, time.Since(t0))
		if r := f.wait(t, time.Minute); r.Code != 0 {
			t.Fatalf("calibration flush: %v", r)
		}
		took = append(took, time.Since(t0))
		checkAll("calibration")
	}
	var maxDelay time.Duration

	phases := map[string]int{}
	var inFlush, inWait, inScan time.Duration
	for k := range kills {
		banSome()
		before := sinks.refresh()
		_, pendingBefore, batchesBefore := spoolState(t, s)
		ledgerBefore := s.ledger()

		maxDelay = max(maxDelay, median())
		t0 := time.Now()
		f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
		lo := time.Duration(0)
		if k%2 == 1 {
			lo = min(claimAt*8/10, median()/2)
		}
		delay := lo + time.Duration(rand.Int64N(int64(median()-lo)))
		time.Sleep(delay)
		exited := false
		select {
		case <-f.done:
			exited = true
		default:
		}
		_ = syscall.Kill(f.cmd.Process.Pid, syscall.SIGKILL) // the flush only: its sendmail carries on
		<-f.done
		t1 := time.Now()
		inFlush += t1.Sub(t0)
		if !groupGone(f.cmd.Process.Pid, 10*time.Second) {
			t.Fatalf("kill %d: a child of the killed flush still runs after 10s", k)
		}
		t2 := time.Now()
		inWait += t2.Sub(t1)

		after := sinks.refresh()
		batchOf, pendingAfter, batchesAfter := spoolState(t, s)
		l := s.ledger()
		unrecorded, delivered := false, false
		for _, ch := range channelsOf {
			for ip, n := range after[ch] {
				if n <= before[ch][ip] {
					continue
				}
				delivered = true
				id, spooled := batchOf[ip]
				if spooled && !l.Channel(ch).Has(id) {
					// Sent, then killed before the ledger said so.
					allowance[ch][ip]++
					unrecorded = true
				}
			}
		}
		recorded := false
		for _, ch := range channelsOf {
			if len(l.Channel(ch).Confirmed) > len(ledgerBefore.Channel(ch).Confirmed) {
				recorded = true
			}
		}
		claimed := len(pendingAfter) < len(pendingBefore)
		deleted := len(batchesAfter) < len(batchesBefore)+boolInt(claimed)
		phase := "before-claim"
		switch {
		case exited:
			phase = "finished-before-kill"
		case deleted:
			phase = "after-delete"
		case unrecorded:
			phase = "between-send-and-record"
		case recorded:
			phase = "after-record"
		case delivered:
			phase = "sending"
		case claimed:
			phase = "after-claim"
		}
		phases[phase]++
		t3 := time.Now()
		inScan += t3.Sub(t2)
		if k%4 == 3 || k == kills-1 {
			timedFlush(fmt.Sprintf("after kill %d (%s, %v)", k, phase, delay.Round(time.Millisecond)))
		}
	}

	t.Logf("time spent: killed flushes %v, waiting for their children %v, reading state %v", inFlush.Round(time.Millisecond), inWait.Round(time.Millisecond), inScan.Round(time.Millisecond))
	final := sinks.refresh()
	for _, ch := range channelsOf {
		for _, ip := range banned {
			if n := final[ch][ip]; n > 1 {
				dup += n - 1
				beyond += max(n-1-allowance[ch][ip], 0)
			}
		}
	}
	var ph []string
	for p, n := range phases {
		ph = append(ph, fmt.Sprintf("%s:%d", p, n))
	}
	sort.Strings(ph)
	allowed := 0
	for _, ch := range channelsOf {
		for _, n := range allowance[ch] {
			allowed += n
		}
	}
	figures(t, "crash-flush", len(banned), lost, dup, 0,
		fmt.Sprintf("kills=%d", kills), "channels=2", fmt.Sprintf("allowed_dup=%d", allowed), fmt.Sprintf("dup_beyond_allowed=%d", beyond),
		fmt.Sprintf("flush_ms=%d", median().Milliseconds()), fmt.Sprintf("claim_ms=%d", claimAt.Milliseconds()), fmt.Sprintf("max_delay_ms=%d", maxDelay.Milliseconds()), "phases="+strings.Join(ph, ","),
		fmt.Sprintf("torn_mails=%d", sinks.torn), fmt.Sprintf("flush_tmp_left=%d", leftTmp))
	if leftTmp > 0 {
		t.Errorf("kills left up to %d temporary files (ledger, history) behind, and a clean flush did not remove them", leftTmp)
	}
	if phases["finished-before-kill"] > kills/2 {
		t.Errorf("%d of %d kills came after the flush had finished: the kills did not exercise the flush", phases["finished-before-kill"], kills)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestTornLineThenMoreBans writes half a record directly, as a crash in the
// middle of an append leaves it, then runs more bans and a flush: the report
// says one damaged line was skipped and every other ban is delivered.
func TestTornLineThenMoreBans(t *testing.T) {
	s := newSite(t, siteOptions{fsync: true, channels: "  log:\n    type: file\n    path: {DIR}/reports.txt\n"})
	var want []string
	for i := range 3 {
		ip := ipN(0x100 + i)
		if r := s.ban(binary, "--jail", "sshd", "--ip", ip); r.Code != 0 {
			t.Fatalf("ban: %v", r)
		}
		want = append(want, ip)
	}
	f, err := os.OpenFile(s.pendingPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"action":"ban","jail":"sshd","ip":"10.9.9.`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for prog, path := range banBinaries() {
		for i := range 3 {
			ip := ipN(0x200 + len(want) + i)
			if r := s.ban(path, "--jail", "sshd", "--ip", ip); r.Code != 0 {
				t.Fatalf("ban with %s after a torn line: %v", prog, r)
			}
			want = append(want, ip)
		}
	}
	if r := s.cmd("status"); r.Code != 0 || !strings.Contains(r.Out, "(1 damaged line)") {
		t.Errorf("status does not show the damaged line: %v", r)
	}
	if r := s.cmd("flush"); r.Code != 0 {
		t.Fatalf("flush: %v", r)
	}
	text := readFile(t, filepath.Join(s.dir, "reports.txt"))
	seen := countIPs(text)
	lost, dup := 0, 0
	for _, ip := range want {
		if seen[ip] == 0 {
			lost++
			t.Errorf("%s not delivered", ip)
		}
		if seen[ip] > 1 {
			dup += seen[ip] - 1
		}
	}
	if seen["10.9.9.0"] != 0 || len(seen) != len(want) {
		t.Errorf("delivered %v, want exactly %v", seen, want)
	}
	if !strings.Contains(text, "1 damaged buffer line was skipped") {
		t.Errorf("the report does not note the damaged line:\n%s", text)
	}
	figures(t, "torn-line", len(want), lost, dup, 0, "damaged_noted=1")
}
