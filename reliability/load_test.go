//go:build integration

package reliability

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadManyWritersWhileFlushing runs the real ban binaries the way a host
// under attack does: 16 fail2ban-like writers each run `ban` one after the
// other (odd writers use the lean f2b-notify-ban when it exists) while a
// cron-like `flush` runs every 50 ms into a file channel (and, now and then,
// `status` and `preview`). Every ban must be delivered exactly once, with no
// damaged line and nothing left behind.
// 150 bans per writer by default, 1,000 with RELIABILITY_FULL=1.
func TestLoadManyWritersWhileFlushing(t *testing.T) {
	writers, perWriter := 16, 150
	if full() {
		perWriter = 1000
	}
	total := writers * perWriter
	s := newSite(t, siteOptions{fsync: true, channels: "  log:\n    type: file\n    path: {DIR}/reports.txt\n"})
	reports := filepath.Join(s.dir, "reports.txt")

	start := time.Now()
	stop := make(chan struct{})
	var flushes, busy atomic.Int64
	var flusher sync.WaitGroup
	flusher.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			r := s.cmd("flush", "-v")
			if r.Code != 0 {
				t.Errorf("flush during bans: %v", r)
			}
			if flushes.Load()%10 == 5 {
				// The read-only commands answer during bans, bounded.
				for _, args := range [][]string{{"status"}, {"preview", "--channel", "log"}} {
					if r := run(t, proc{argv: append([]string{binary, "--config", s.cfg}, args...), timeout: 20 * time.Second}); r.Code != 0 {
						t.Errorf("%v during bans: %v", args, r)
					}
				}
			}
			if strings.Contains(r.Out, "another flush is running") {
				busy.Add(1)
			}
			flushes.Add(1)
		}
	})
	var failed atomic.Int64
	var banners sync.WaitGroup
	for p := range writers {
		prog := binary
		if p%2 == 1 && banBinary != "" {
			prog = banBinary
		}
		banners.Go(func() {
			for i := range perWriter {
				ip := ipN(p<<12 | i)
				r := s.ban(prog, "--jail", []string{"sshd", "nginx-http-auth", "postfix"}[i%3], "--ip", ip,
					"--failures", "3", "--time", strconv.FormatInt(time.Now().Unix(), 10))
				if r.Code != 0 || r.Out != "" || r.Err != "" {
					failed.Add(1)
					t.Errorf("ban %s with %s: %v", ip, filepath.Base(prog), r)
				}
			}
		})
	}
	banners.Wait()
	bansTook := time.Since(start)
	close(stop)
	flusher.Wait()
	if r := s.cmd("flush", "-v"); r.Code != 0 || strings.Contains(r.Out, "another flush") {
		t.Fatalf("final flush: %v", r)
	}

	// Nothing is left: no pending record, no damaged line, no batch.
	left, st := s.records()
	if len(left) != 0 || st.Torn != 0 {
		t.Errorf("after the final flush the buffer holds %d records and %d damaged lines", len(left), st.Torn)
	}
	text := readFile(t, reports)
	seen := countIPs(text)
	var banned []string
	for p := range writers {
		for i := range perWriter {
			banned = append(banned, ipN(p<<12|i))
		}
	}
	lost, dup := deliveredOnce(t, "the report", seen, banned)
	for ip, n := range seen {
		t.Errorf("%s delivered %d times, but nobody banned it", ip, n)
	}
	if strings.Contains(text, "damaged") {
		t.Errorf("a report mentions damaged lines")
	}
	nReports := strings.Count(text, "=== [Fail2Ban]")
	if nReports < 2 {
		t.Errorf("only %d report(s): the flushes never overlapped the bans", nReports)
	}
	figures(t, "load", total, lost, dup, 0,
		fmt.Sprintf("writers=%d", writers), fmt.Sprintf("per_writer=%d", perWriter),
		fmt.Sprintf("flushes=%d", flushes.Load()), fmt.Sprintf("busy=%d", busy.Load()),
		fmt.Sprintf("reports=%d", nReports), fmt.Sprintf("failed_bans=%d", failed.Load()),
		fmt.Sprintf("bans_s=%.1f", bansTook.Seconds()),
		fmt.Sprintf("bans_per_s=%.0f", float64(total)/bansTook.Seconds()))
}
