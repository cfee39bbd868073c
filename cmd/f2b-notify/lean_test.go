package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestLeanBanStartsTheFullFlush: f2b-notify-ban, installed beside f2b-notify,
// records the ban and, seeing the flag, has the full binary flush it.
func TestLeanBanStartsTheFullFlush(t *testing.T) {
	lean := buildLean(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.txt")
	flag := filepath.Join(dir, "mail.flag")
	config := filepath.Join(dir, "config.yaml")
	body := "buffer:\n  dir: " + filepath.Join(dir, "buf") + "\nflag: " + flag + "\nreport:\n  timezone: UTC\nchannels:\n  log:\n    type: file\n    path: " + report + "\n"
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lean, "--config", config, "ban", "--jail", "sshd", "--ip", "192.0.2.77", "--failures", "4").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("lean ban: %v, output %q", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _ := os.ReadFile(report)
		_, flagErr := os.Stat(flag)
		if strings.Contains(string(data), "192.0.2.77") && os.IsNotExist(flagErr) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "buf", "last-flush.log"))
			t.Fatalf("no report from the background flush; report %q, flush log %q", data, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLeanBanHandsUnusualYAMLToTheFullCommand: a configuration in YAML the
// lean reader does not read with certainty (here a flow mapping) is read by
// the full f2b-notify beside it, in the same process: the ban lands where
// the file says, once.
func TestLeanBanHandsUnusualYAMLToTheFullCommand(t *testing.T) {
	lean := buildLean(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	body := "buffer: {dir: " + filepath.Join(dir, "flow") + ", fsync: false}\nflag: ''\n"
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lean, "--config", config, "ban", "--jail", "sshd", "--ip", "192.0.2.78").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("lean ban: %v, output %q", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "flow", "pending.jsonl"))
	if err != nil || strings.Count(string(data), "192.0.2.78") != 1 {
		t.Fatalf("record not in the folder the flow mapping names: %v %q", err, data)
	}
}

// buildLean builds f2b-notify-ban beside a fresh f2b-notify, as installed.
func buildLean(t *testing.T) string {
	t.Helper()
	lean := filepath.Join(filepath.Dir(buildBinary(t)), "f2b-notify-ban")
	if err := testenv.Build(lean, "../f2b-notify-ban"); err != nil {
		t.Fatal(err)
	}
	return lean
}
