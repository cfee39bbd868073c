//go:build integration

package reliability

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// A channel that has been down for a long time has thousands of batches
// waiting for it. Under the usual limit of 1,024 open files (256 here), the
// flush still builds its report, and the healthy channel gets its new bans
// whatever that backlog.
func TestLongBacklogOfADeadChannelUnderAFileLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("this scenario runs flush under prlimit (util-linux): ", err)
	}
	// An address nothing listens on: the dead channel's every attempt is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  healthy:
    type: file
    path: {DIR}/reports.txt
  dead:
    type: webhook
    url: http://%s/hook
    retries: 0
    timeout: 2s
`, dead)})

	const backlog, limit = 3000, 256
	buf := buffer.New(s.buf, false)
	ledger := &buffer.Ledger{}
	healthy := ledger.Channel("healthy")
	start := time.Now().Add(-time.Hour)
	for i := range backlog {
		s.appendBan("sshd", ipN(i), 3)
		batches, err := buf.Claim(start.Add(time.Duration(i) * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range batches {
			healthy.Confirmed = append(healthy.Confirmed, b.ID) // received before the other went down
		}
	}
	ledger.Channel("dead").Missed = backlog
	if err := buf.SaveLedger(ledger); err != nil {
		t.Fatal(err)
	}
	newIP := "192.0.2.77"
	s.appendBan("sshd", newIP, 5)

	r := run(t, proc{argv: []string{prlimit, fmt.Sprintf("--nofile=%d:%d", limit, limit), binary, "--config", s.cfg, "flush", "-v"}, timeout: 5 * time.Minute})
	if strings.Contains(r.Out+r.Err, "too many open files") {
		t.Fatalf("the flush ran out of file descriptors:\n%s", r)
	}
	report := readFile(t, s.dir+"/reports.txt")
	lost := 0
	if !strings.Contains(report, newIP) {
		lost = 1
		t.Errorf("the healthy channel did not get the new ban:\n%s\nits report:\n%s", r, report)
	}
	if !strings.Contains(r.Err, "dead: FAILED") || !strings.Contains(r.Out, "healthy: sent 1 ban from 1 batch") {
		t.Errorf("flush output does not say what happened:\n%s", r)
	}
	after := s.ledger()
	if st := after.Channel("dead"); len(st.Confirmed) != 0 || st.Missed != backlog+1 {
		t.Errorf("the dead channel: %d confirmed, %d missed; want 0 and %d", len(st.Confirmed), st.Missed, backlog+1)
	}
	batches, err := buf.Batches()
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != backlog+1 {
		t.Errorf("%d batches in the spool, want the dead channel's %d kept", len(batches), backlog+1)
	}
	figures(t, "dead-channel-backlog", backlog+1, lost, 0, 0,
		fmt.Sprintf("batches=%d nofile=%d flush_ms=%d exit=%d", backlog+1, limit, r.Elapsed.Milliseconds(), r.Code))
}
