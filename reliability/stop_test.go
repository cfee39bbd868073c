//go:build integration

package reliability

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/defaults"
)

// TestStopWithAHangingChannel runs `stop` as fail2ban does when a jail
// stops, with a webhook that accepts and never answers (timeout 8 s) next
// to a file channel. stop must return within a few seconds; the flush it
// started goes on in the background, delivers to the file channel, and
// keeps the webhook's bans in the spool; once the webhook answers again,
// the next flush delivers them to it once, and the file channel gets
// nothing twice. With nothing pending and nothing spooled, stop starts no
// flush.
func TestStopWithAHangingChannel(t *testing.T) {
	srv := startFaultServer(t, nil)
	srv.setMode(modeHang)
	s := newSite(t, siteOptions{fsync: true, channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  hook:
    type: webhook
    url: http://%s/hooks/%s
    token: %s
    retries: 0
    timeout: 8s
`, srv.addr, secretURLToken, secretBearer)})
	var want []string
	for i := range 5 {
		ip := ipN(0x500 + i)
		if r := s.ban(binary, "--jail", "sshd", "--ip", ip, "--failures", "3"); r.Code != 0 {
			t.Fatalf("ban: %v", r)
		}
		want = append(want, ip)
	}
	logName := filepath.Join(s.buf, defaults.FlushLog)

	// fail2ban stops three jails, one after the other.
	bound := 6 * time.Second // stop waits 3 s for its flush, then leaves it; the webhook 8 s
	var slowest time.Duration
	for _, jail := range []string{"sshd", "postfix", "dovecot"} {
		r := s.cmd("stop", "--jail", jail)
		slowest = max(slowest, r.Elapsed)
		if r.Code != 0 || r.Elapsed > bound {
			t.Errorf("stop --jail %s with a hanging channel: %v; want exit 0 within %v", jail, r, bound)
		}
	}
	// The background flush delivered to the file channel already, and waits
	// for the webhook until its timeout.
	seen := countIPs(readFile(t, filepath.Join(s.dir, "reports.txt")))
	for _, ip := range want {
		if seen[ip] != 1 {
			t.Errorf("%s reached the file channel %d times while the webhook hangs, want once", ip, seen[ip])
		}
	}
	deadline := time.Now().Add(40 * time.Second)
	for !strings.Contains(readFile(t, logName), "hook: FAILED") {
		if time.Now().After(deadline) {
			t.Fatalf("the background flush did not report the webhook's failure within 40s; its log:\n%s", readFile(t, logName))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing lost: the webhook's bans wait in the spool.
	spooled := map[string]bool{}
	recs, _ := s.records()
	for _, r := range recs {
		spooled[r.IP] = true
	}
	lost := 0
	for _, ip := range want {
		if !spooled[ip] {
			lost++
			t.Errorf("%s is neither delivered to the webhook nor kept in the spool", ip)
		}
	}

	srv.setMode(modeOK)
	if r := s.cmd("flush", "-v"); r.Code != 0 || !strings.Contains(r.Out, "hook: sent 5 bans") {
		t.Fatalf("flush once the webhook answers: %v", r)
	}
	_, _, bodies := srv.seen()
	dup := 0
	for _, ip := range want {
		n := 0 // reports that hold it
		for _, b := range bodies {
			if bytes.Contains(b, []byte(`"`+ip+`"`)) {
				n++
			}
		}
		switch {
		case n == 0:
			lost++
			t.Errorf("%s never reached the webhook", ip)
		case n > 1:
			dup += n - 1
			t.Errorf("%s reached the webhook %d times", ip, n)
		}
	}
	seen = countIPs(readFile(t, filepath.Join(s.dir, "reports.txt")))
	for _, ip := range want {
		if seen[ip] != 1 {
			dup += max(seen[ip]-1, 0)
			t.Errorf("%s reached the file channel %d times, want once", ip, seen[ip])
		}
	}

	// Nothing pending, nothing spooled: no flush at all.
	before := readFile(t, logName)
	r := s.cmd("stop", "--jail", "sshd")
	if r.Code != 0 || !strings.Contains(r.Out, "nothing pending; no flush started") || readFile(t, logName) != before {
		t.Errorf("stop with nothing pending: %v; flush log grew: %v", r, readFile(t, logName) != before)
	}
	figures(t, "stop-hanging-channel", len(want), lost, dup, 0,
		"jails=3", fmt.Sprintf("stop_slowest_ms=%d", slowest.Milliseconds()), "channel_timeout_s=8")
}
