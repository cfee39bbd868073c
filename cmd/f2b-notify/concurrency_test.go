package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestConcurrentBansAndFlushes runs the real binary the way a busy host does:
// several fail2ban-like writers each run `f2b-notify ban` one after another
// while cron-like flushes run every 30 ms. Every ban must reach the report
// exactly once, with no damaged line and nothing left in the buffer.
func TestConcurrentBansAndFlushes(t *testing.T) {
	const (
		writers   = 8
		perWriter = 150
		total     = writers * perWriter
	)
	bin := buildBinary(t)
	dir := t.TempDir()
	bufDir := filepath.Join(dir, "buf")
	reportPath := filepath.Join(dir, "report.txt")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`buffer:
  dir: %s
  fsync: true
flag: %s
host: concurrency.test
report:
  timezone: UTC
channels:
  log:
    type: file
    path: %s
`, bufDir, filepath.Join(dir, "mail.flag"), reportPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testenv.Env("F2B_NOTIFY_CONFIG=" + cfgPath)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	start := time.Now()
	done := make(chan struct{})
	var flusher sync.WaitGroup
	flushes := 0
	flusher.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if out, err := run("flush"); err != nil {
				t.Errorf("flush during bans: %v: %s", err, out)
			}
			flushes++
			time.Sleep(30 * time.Millisecond)
		}
	})
	var banners sync.WaitGroup
	for p := 1; p <= writers; p++ {
		banners.Go(func() {
			for i := range perWriter {
				ip := fmt.Sprintf("10.%d.%d.%d", p, i/100, i%100)
				jail := []string{"sshd", "nginx-http-auth", "postfix"}[i%3]
				out, err := run("ban", "--jail", jail, "--ip", ip, "--failures", "3", "--time", strconv.FormatInt(time.Now().Unix(), 10))
				if err != nil || out != "" {
					t.Errorf("ban %s: %v: %q", ip, err, out)
				}
			}
		})
	}
	banners.Wait()
	close(done)
	flusher.Wait()
	bansDone := time.Since(start)
	if out, err := run("flush"); err != nil || strings.Contains(out, "another flush") {
		t.Fatalf("final flush: %v: %s", err, out)
	}

	// Nothing is left behind: no pending record, no damaged line, no batch.
	pending, err := buffer.ScanFile(filepath.Join(bufDir, buffer.PendingFile), func(*buffer.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if pending != (buffer.ScanStats{}) {
		t.Errorf("after the final flush, pending holds %+v", pending)
	}
	batches, err := buffer.New(bufDir, false).Batches()
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 0 {
		t.Errorf("after the final flush, %d batches are left in the spool", len(batches))
	}
	out, err := run("status")
	if err != nil || !strings.Contains(out, "\npending: 0 records\nbatches: 0\n") {
		t.Errorf("status: %v:\n%s", err, out)
	}

	// Every ban is in exactly one report, once.
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	reports := strings.Count(text, "\n=== [Fail2Ban] ") + boolInt(strings.HasPrefix(text, "=== [Fail2Ban] "))
	seen := map[string]int{}
	for _, m := range offenderRow.FindAllStringSubmatch(text, -1) {
		seen[m[1]]++
		if m[2] != "1" || m[3] != "3" {
			t.Errorf("offender %s: %s bans and %s failures in one report, want 1 and 3", m[1], m[2], m[3])
		}
	}
	for p := 1; p <= writers; p++ {
		for i := range perWriter {
			ip := fmt.Sprintf("10.%d.%d.%d", p, i/100, i%100)
			if n := seen[ip]; n != 1 {
				t.Errorf("%s is in the reports %d times, want once", ip, n)
			}
			delete(seen, ip)
		}
	}
	for ip, n := range seen {
		t.Errorf("%s is in the reports %d times, but no writer banned it", ip, n)
	}
	if got := sumAll(t, bansLine, text); got != total {
		t.Errorf("the reports' summaries count %d bans, want %d", got, total)
	}
	if got := sumAll(t, recordsLine, text); got != total {
		t.Errorf("the reports' footers count %d records, want %d", got, total)
	}
	if strings.Contains(text, "damaged") || strings.Contains(text, "retention") {
		t.Errorf("a report mentions damaged or dropped records:\n%s", text)
	}
	if reports < 2 {
		t.Errorf("%d reports: the flushes never interleaved with the bans", reports)
	}
	t.Logf("%d bans by %d writers in %v, %d flushes during them, %d reports", total, writers, bansDone.Round(time.Millisecond), flushes, reports)
}

var (
	// An offender row of the text report: IP, bans, failures.
	offenderRow = regexp.MustCompile(`(?m)^  (10\.[0-9]+\.[0-9]+\.[0-9]+) +([0-9]+) +([0-9]+) `)
	bansLine    = regexp.MustCompile(`(?m)^  Bans +([0-9]+)$`)
	recordsLine = regexp.MustCompile(`(?m)^-- f2b-notify: ([0-9]+) records? from `)
)

// sumAll adds up the numbers that re captures in text.
func sumAll(t *testing.T, re *regexp.Regexp, text string) int {
	t.Helper()
	sum := 0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	return sum
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildBinary builds f2b-notify as it ships: static, without cgo.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "f2b-notify")
	if err := testenv.Build(bin, "."); err != nil {
		t.Fatal(err)
	}
	return bin
}
