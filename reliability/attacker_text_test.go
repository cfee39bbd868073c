//go:build integration

package reliability

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// A thousand offenders, each trying five user names of 8 KiB or 100 KiB
// (fail2ban passes up to 128 KiB), flushed to e-mail: the message and the
// flush's memory stay the same size whatever the length of the names, and
// the report says how many were cut. Uncut, they made an 87 MB and a 1 GB
// e-mail that mail servers refuse, and took 0.4 and 4.3 GB of memory.
func TestAttackerSizedUserNamesMakeABoundedReport(t *testing.T) {
	const offenders, names = 1000, 5
	for _, size := range []int{8 << 10, 100 << 10} {
		t.Run(fmt.Sprintf("%dKiB", size>>10), func(t *testing.T) {
			dir := t.TempDir()
			mailSettings, mailDir := fakeSendmail(t, dir, 0)
			s := newSite(t, siteOptions{channels: "  mail:\n    type: sendmail\n    to: [root@localhost]\n    from: fail2ban@localhost\n    timeout: 5m\n" + mailSettings})
			// 500 MB of names, beyond the default spool size that retention keeps.
			cfg := strings.Replace(readFile(t, s.cfg), "\nflag:", "\n  max_size_mb: 0\nflag:", 1)
			if err := os.WriteFile(s.cfg, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			writeLongNames(t, s, offenders, names, size)

			cmd := exec.CommandContext(ctxTimeout(t, 5*time.Minute), binary, "--config", s.cfg, "flush")
			cmd.Env = testenv.Env()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("flush: %v\n%s", err, out)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			mails := mailsIn(t, mailDir)
			if len(mails) != 1 {
				t.Fatalf("%d e-mails, want 1; flush said %s", len(mails), out)
			}
			m, err := parseMail(mails[0])
			if err != nil {
				t.Fatal(err)
			}
			lost := 0
			for i := range offenders {
				if !strings.Contains(m.Text, ipN(i)+" ") {
					lost++
				}
			}
			if lost > 0 {
				t.Errorf("%d offenders missing from the report", lost)
			}
			note := fmt.Sprintf("%d user names were cut to 64 characters.", offenders*names)
			if !strings.Contains(m.Text, note) || !strings.Contains(m.HTML, note) {
				t.Errorf("the report does not say %q:\n%.3000s", note, m.Text)
			}
			if len(mails[0]) > 8<<20 {
				t.Errorf("the e-mail is %d bytes, want at most 8 MiB", len(mails[0]))
			}
			if rss > 128<<20 {
				t.Errorf("the flush's peak memory was %d MiB, want at most 128 MiB", rss>>20)
			}
			figures(t, fmt.Sprintf("attacker-sized-user-names-%dKiB", size>>10), offenders*names, lost, 0, 0,
				fmt.Sprintf("buffer_bytes=%d mail_bytes=%d flush_peak_rss_kib=%d", offenders*names*size, len(mails[0]), rss>>10))
		})
	}
}

// writeLongNames stores names bans per offender, each with its own user
// name of size bytes, as one pending file.
func writeLongNames(t *testing.T, s *site, offenders, names, size int) {
	t.Helper()
	if err := os.MkdirAll(s.buf, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(s.buf, buffer.PendingFile))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	now := time.Now().Unix()
	for i := range offenders * names {
		user := fmt.Sprintf("u%07d-", i) + string(bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), size/26+1))[:size-9]
		ip := ipN(i / names)
		r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Failures: 3,
			Time: float64(now + int64(i)), At: now, User: user, Matches: []string{"sshd[1001]: Invalid user " + user[:40] + " from " + ip}}
		line, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
