//go:build integration

package channels_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// rsyslog is a private rsyslogd (Debian's rsyslog) listening on a unix
// socket of its own and writing what it receives to a file.
type rsyslog struct {
	socket, out string
}

func startRsyslog(t *testing.T) rsyslog {
	t.Helper()
	bin := testenv.NeedCommand(t, "rsyslogd", "rsyslog")
	dir := t.TempDir()
	r := rsyslog{socket: filepath.Join(dir, "log.sock"), out: filepath.Join(dir, "out.log")}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q)
template(name="raw" type="string" string="%%pri%% %%syslogtag%%%%msg%%\n")
*.* action(type="omfile" file=%q template="raw")
`, dir, r.socket, r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(r.socket); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd made no socket in 10s:\n%s", out.String())
		}
	}
}

// waitFor returns the log once it holds want.
func (r rsyslog) waitFor(t *testing.T, want string) string {
	t.Helper()
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ = os.ReadFile(r.out); bytes.Contains(b, []byte(want)) {
			return string(b)
		}
	}
	t.Fatalf("rsyslog's log has no %q in 10s:\n%s", want, b)
	return ""
}

func TestSyslogRsyslog(t *testing.T) {
	r := startRsyslog(t)
	ch, err := channels.New("log", "syslog", map[string]any{"network": "unixgram", "address": r.socket, "facility": "authpriv", "severity": "warning", "tag": "f2b-report"})
	if err != nil {
		t.Fatal(err)
	}
	if v := nbDeliver(ch, "fail2ban report", "3 bans\n192.0.2.7 sshd", 5*time.Second); v.Err != nil {
		t.Fatal(v.Err)
	}
	// authpriv (10) * 8 + warning (4) = 84; rsyslog shows the line break as #012.
	log := r.waitFor(t, "fail2ban report")
	if want := "84 f2b-report[" + fmt.Sprint(os.Getpid()) + "]: fail2ban report: 3 bans#012192.0.2.7 sshd\n"; log != want {
		t.Errorf("rsyslog wrote %q, want %q", log, want)
	}

	// A report of the channel's limit arrives whole: rsyslog's default
	// maximum message size holds it, with the header and the subject.
	if ch.Limit() < 4000 {
		t.Fatalf("limit %d bytes", ch.Limit())
	}
	big := strings.Repeat("x", ch.Limit()-len("END")) + "END"
	if v := nbDeliver(ch, "big report", big, 5*time.Second); v.Err != nil {
		t.Fatal(v.Err)
	}
	r.waitFor(t, "big report: "+big+"\n")
}

func TestSyslogDown(t *testing.T) {
	ch, err := channels.New("log", "syslog", map[string]any{"network": "unixgram", "address": filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatal(err)
	}
	v := channels.Deliver(context.Background(), channels.Job{Channel: ch, Attempts: 2, Timeout: time.Second, Backoff: nbQuickBackoff,
		Message: channels.Message{Subject: "s", Bodies: map[channels.Format]string{channels.Text: "b"}}})
	if v.Err == nil || v.Attempts != 2 || !strings.Contains(v.Err.Error(), `channel "log": syslog: connect to syslog`) {
		t.Errorf("syslog down: %d attempts, %v; want 2 attempts (retried) and an error saying so", v.Attempts, v.Err)
	}
}
