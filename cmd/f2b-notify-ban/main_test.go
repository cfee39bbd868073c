package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestMain runs the tests through testenv.Main, which keeps them away from
// the machine's default buffer folder and its F2B_NOTIFY_* variables.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m.Run)) }

func setup(t *testing.T) (config, pending string) {
	t.Helper()
	dir := t.TempDir()
	config = filepath.Join(dir, "config.yaml")
	body := "buffer:\n  dir: " + filepath.Join(dir, "buf") + "\n  fsync: false\nflag: " + filepath.Join(dir, "mail.flag") + "\n"
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, filepath.Join(dir, "buf", buffer.PendingFile)
}

func records(t *testing.T, pending string) []buffer.Record {
	t.Helper()
	data, err := os.ReadFile(pending)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []buffer.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r buffer.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestLeanBanRecordsLikeTheFullCommand(t *testing.T) {
	config, pending := setup(t)
	matches := "Nov 25 17:36:52 vm sshd[1001]: Invalid user -rf from 192.0.2.7\nline two $(touch /tmp/x) `id` <b>"
	e := run([]string{"--config", config, "ban", "--jail", "sshd", "--ip", "192.0.2.7", "--failures", "3",
		"--time", "1795628212.5", "--bantime", "-1", "--matches", matches, "--user", "-rf", "--restored", "0"})
	if e.Code != 0 {
		t.Fatalf("exit %d: %s", e.Code, e.Msg)
	}
	e = run([]string{"unban", "--config", config, "--jail", "sshd", "--ip", "::ffff:192.0.2.7", "--user", "<F-USER>"})
	if e.Code != 0 {
		t.Fatalf("unban: exit %d: %s", e.Code, e.Msg)
	}
	got := records(t, pending)
	if len(got) != 2 {
		t.Fatalf("%d records", len(got))
	}
	r := got[0]
	if r.V != 1 || r.Action != "ban" || r.Jail != "sshd" || r.IP != "192.0.2.7" || r.Failures != 3 || r.Time != 1795628212.5 ||
		r.Bantime != -1 || r.User != "-rf" || strings.Join(r.Matches, "\n") != matches || r.Restored {
		t.Errorf("ban record %+v", r)
	}
	if u := got[1]; u.Action != "unban" || u.IP != "192.0.2.7" || u.User != "" {
		t.Errorf("unban record %+v", u)
	}
	// A user name shaped like a tag is the attacker's, not fail2ban's: kept.
	if e := run([]string{"--config", config, "ban", "--jail", "sshd", "--ip", "192.0.2.8", "--user", "<admin>", "--matches", "<root>"}); e.Code != 0 {
		t.Fatal(e.Msg)
	}
	if r := records(t, pending)[2]; r.User != "<admin>" || len(r.Matches) != 1 || r.Matches[0] != "<root>" {
		t.Errorf("tag-shaped user and match not kept: %+v", r)
	}
}

// A ban whose configuration is missing is stored in the folder of the
// default configuration, which under the tests is testenv's, never the
// machine's /var/lib/f2b-notify.
func TestLeanBanOfAMissingConfigurationGoesToTheDefaultFolder(t *testing.T) {
	config, _ := setup(t)
	missing := filepath.Join(filepath.Dir(config), "typo.yaml")
	e := run([]string{"--config", missing, "ban", "--jail", "sshd", "--ip", "192.0.2.78"})
	if e.Code != 1 || !strings.Contains(e.Msg, "no such file or directory") {
		t.Fatalf("exit %d: %s", e.Code, e.Msg)
	}
	got := records(t, filepath.Join(testenv.DefaultBufferDir(), buffer.PendingFile))
	if len(got) == 0 || got[len(got)-1].IP != "192.0.2.78" || got[len(got)-1].Config != missing {
		t.Errorf("default folder holds %+v, want the ban naming %s last", got, missing)
	}
}

func TestLeanBanRefusesBadArguments(t *testing.T) {
	config, pending := setup(t)
	for _, args := range [][]string{
		{"ban", "--jail", "sshd", "--ip", "not-an-ip"},
		{"ban", "--jail", "", "--ip", "192.0.2.1"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "--failures", "-1"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "--failures", "two"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "--time", "yesterday"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "--restored", "2"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "--bogus", "x"},
		{"ban", "--jail", "sshd", "--ip", "192.0.2.1", "extra"},
		{"flush"},
		{},
	} {
		e := run(append([]string{"--config", config}, args...))
		if e.Code != 2 || e.Msg == "" || strings.Contains(e.Msg, "\n") {
			t.Errorf("%q: exit %d %q, want 2 and one line", args, e.Code, e.Msg)
		}
	}
	if got := records(t, pending); len(got) != 0 {
		t.Errorf("bad arguments wrote %d records", len(got))
	}
}
