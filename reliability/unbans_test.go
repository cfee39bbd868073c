//go:build integration

package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// An unban that comes after the day's last report, as fail2ban runs it
// (with the <time> of the ban it ends): flushes with nothing else to say
// send nothing and confirm nothing; the next report with a ban shows it, at
// the time it happened.
func TestUnbanAfterTheLastReportIsInTheNext(t *testing.T) {
	s := newSite(t, siteOptions{channels: "  out:\n    type: file\n    path: {DIR}/reports.txt\n"})
	reports := s.dir + "/reports.txt"
	lastFailure := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	banned, later := "192.0.2.41", "198.51.100.42"
	tried, lost := 0, 0
	progs := banBinaries()
	for _, prog := range progs {
		tm := fmt.Sprint(lastFailure.Unix())
		if r := s.ban(prog, "--jail", "sshd", "--ip", banned, "--time", tm, "--failures", "3"); r.Code != 0 {
			t.Fatalf("ban: %s", r)
		}
		if r := s.cmd("flush"); r.Code != 0 || !strings.Contains(readFile(t, reports), banned) {
			t.Fatalf("flush of the ban: %s", r)
		}
		before := readFile(t, reports)

		unbanned := time.Now().UTC()
		r := run(t, proc{argv: []string{prog, "--config", s.cfg, "unban", "--jail", "sshd", "--ip", banned, "--time", tm}})
		if r.Code != 0 {
			t.Fatalf("unban: %s", r)
		}
		tried++
		for range 2 {
			r := s.cmd("flush", "-v")
			if r.Code != 0 || !strings.Contains(r.Out, "out: nothing to send; 1 batch without new bans waits for the next report") {
				t.Errorf("flush of the unban alone: %s", r)
			}
			if readFile(t, reports) != before {
				t.Fatal("a report of the unban alone was sent")
			}
			if st := s.ledger().Channel("out"); len(st.Confirmed) != 0 {
				t.Errorf("the unban's batch was confirmed unseen: %v", st.Confirmed)
			}
		}

		if r := s.ban(prog, "--jail", "sshd", "--ip", later, "--failures", "2"); r.Code != 0 {
			t.Fatalf("ban: %s", r)
		}
		if r := s.cmd("flush"); r.Code != 0 {
			t.Fatalf("flush: %s", r)
		}
		next := strings.TrimPrefix(readFile(t, reports), before)
		at := strings.Index(next, "UNBANS")
		if at < 0 {
			t.Fatalf("the next report has no unbans:\n%s", next)
		}
		unbans := next[at:]
		row := fmt.Sprintf("%-29s  %5d  %s", banned, 1, unbanned.Format("Jan 02 15:04"))
		// The minute may turn between the unban and the clock read above.
		row2 := fmt.Sprintf("%-29s  %5d  %s", banned, 1, unbanned.Add(-time.Minute).Format("Jan 02 15:04"))
		if !strings.Contains(next, later) || !strings.Contains(unbans, row) && !strings.Contains(unbans, row2) {
			lost++
			t.Errorf("the next report does not show the unban at %s (%s):\n%s", unbanned.Format("15:04"), row, next)
		}
		if strings.Contains(unbans, lastFailure.UTC().Format("Jan 02 15:04")) {
			t.Errorf("the unban is shown at the ban's last failure:\n%s", unbans)
		}
		if bs, err := buffer.New(s.buf, false).Batches(); err != nil || len(bs) != 0 {
			t.Errorf("batches left after the report: %v %v", bs, err)
		}
		banned, later = later, banned // the next binary unbans the other
		lastFailure = lastFailure.Add(time.Minute)
	}
	figures(t, "unban-after-last-report", tried, lost, 0, 0, fmt.Sprintf("binaries=%d", len(progs)))
}
