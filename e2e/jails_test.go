//go:build integration

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/f2btest"
)

// sendEmpty turns report.send_empty on in the rig's configuration and
// points fail2ban.pidfile at the private server's pid file.
func (r *rig) sendEmpty() {
	r.t.Helper()
	data, err := os.ReadFile(r.config)
	if err != nil {
		r.t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "report:\n  timezone: UTC\n", "report:\n  timezone: UTC\n  send_empty: true\n", 1)
	cfg += fmt.Sprintf("fail2ban:\n  pidfile: %q\n", r.srv.PidFile())
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// unwrap joins the lines the text report wraps at 80 columns.
func unwrap(text string) string { return strings.ReplaceAll(text, "\n  ", " ") }

// TestEmptyReportSaysWhichJailsRun: a real fail2ban-server starts its jail,
// which runs `f2b-notify start`; a flush with report.send_empty then mails a
// report of no bans that counts the jail as running. Once fail2ban is
// killed (no actionstop runs, its pid file stays), the next one says first,
// and in its subject, that fail2ban is not running.
func TestEmptyReportSaysWhichJailsRun(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.sendEmpty()
	pid := r.srv.PID()

	if out := r.flush(); !strings.Contains(out, "admin-mail: sent a report of no bans") {
		t.Fatalf("flush said:\n%s", out)
	}
	m := r.oneMail()
	if !strings.Contains(m.Text, "\n1 jail running: "+f2btest.Jail+"\n") || strings.Contains(m.Text, "not running") {
		t.Errorf("the report of no bans does not count the jail fail2ban started:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "1 jail running: "+f2btest.Jail) {
		t.Errorf("the HTML part does not count the jail:\n%s", m.HTML)
	}

	r.srv.Kill()
	if _, err := os.Stat(r.srv.PidFile()); err != nil {
		t.Fatalf("a killed fail2ban left no pid file: %v", err)
	}
	r.flush()
	msgs := r.sink.WaitFor(t, 2, wait)
	if len(msgs) != 2 {
		t.Fatalf("want 2 messages, got %d", len(msgs))
	}
	m = parseMail(t, msgs[1])
	want := fmt.Sprintf("fail2ban is not running (no process %d for pid file %s)", pid, r.srv.PidFile())
	if first, _, _ := strings.Cut(unwrap(m.Text), "\n"); first != want {
		t.Errorf("first line %q, want %q:\n%s", first, want, m.Text)
	}
	if strings.Contains(m.Text, "jail running") {
		t.Errorf("the report counts a jail of a killed fail2ban:\n%s", m.Text)
	}
	if !strings.Contains(m.Subject, ": fail2ban is not running, no bans since ") {
		t.Errorf("subject %q does not say fail2ban is not running", m.Subject)
	}
}

// TestEmptyReportAfterCleanStop: fail2ban stopped cleanly runs the jail's
// actionstop, which records the stop, and removes its pid file: the report
// of no bans says fail2ban is not running.
func TestEmptyReportAfterCleanStop(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	r.sendEmpty()
	r.srv.Stop()
	if _, err := os.Stat(r.srv.PidFile()); !os.IsNotExist(err) {
		t.Fatalf("fail2ban stopped cleanly kept its pid file: %v", err)
	}
	r.flush()
	m := r.oneMail()
	want := "fail2ban is not running (no pid file " + r.srv.PidFile() + ", and every jail stopped)"
	if first, _, _ := strings.Cut(unwrap(m.Text), "\n"); first != want {
		t.Errorf("first line %q, want %q:\n%s", first, want, m.Text)
	}
}
