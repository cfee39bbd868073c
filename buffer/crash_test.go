package buffer_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// A flush killed while it saved the ledger, the history or the note of a
// flag it could not remove leaves its temporary file; the next flush to take
// the lock removes it, so kills do not pile files up in the buffer. The files
// themselves stay as they are.
func TestFlushLockRemovesTemporaryFilesOfAKilledFlush(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	if err := b.SaveLedger(&buffer.Ledger{}); err != nil {
		t.Fatal(err)
	}
	ledger, err := os.ReadFile(filepath.Join(b.Dir, buffer.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string][]byte{
		buffer.LedgerFile:         ledger,
		buffer.HistoryFile:        []byte("f2bnhist\x01 a history"),
		buffer.FlagNotRemovedFile: []byte("1 2 3.0 4.0\nread-only file system\n"),
	}
	var stale []string
	for name, data := range kept {
		if err := os.WriteFile(filepath.Join(b.Dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(b.Dir, name+".tmp123456")
		if err := os.WriteFile(tmp, data[:len(data)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, tmp)
	}
	unlock, ok, err := b.TryLockFlush()
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer unlock()
	for _, name := range stale {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s still there: %v", filepath.Base(name), err)
		}
	}
	for name, want := range kept {
		if got, err := os.ReadFile(filepath.Join(b.Dir, name)); err != nil || string(got) != string(want) {
			t.Errorf("%s suffered: %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := b.LoadLedger(); err != nil {
		t.Errorf("the ledger itself suffered: %v", err)
	}
}

// A write that fails part way (a full disk, a file size limit) must not leave
// half a record behind: the buffer is cut back to its last whole line. The
// test runs a helper process under a file size limit (RLIMIT_FSIZE), which
// makes the kernel accept only the bytes below the limit.
func TestFailedAppendLeavesNoPartialLine(t *testing.T) {
	if os.Getenv("BUFFER_TEST_FSIZE_CHILD") != "" {
		// The helper: append a record far larger than the limit.
		var lim syscall.Rlimit
		lim.Cur, lim.Max = 4096, 4096
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(3)
		}
		r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.2", Matches: []string{strings.Repeat("x", 20000)}}
		if err := buffer.New(os.Getenv("BUFFER_TEST_FSIZE_CHILD"), false).Append(r); err == nil {
			fmt.Println("append beyond the file size limit succeeded")
			os.Exit(4)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	b := buffer.New(dir, false)
	if err := b.Append(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(b.PendingPath())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailedAppendLeavesNoPartialLine$")
	cmd.Env = append(os.Environ(), "BUFFER_TEST_FSIZE_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	after, err := os.ReadFile(b.PendingPath())
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("a failed append changed the buffer from %d to %d bytes", len(before), len(after))
	}
}

// An error of the ban path is one line that names the file once and says why.
func TestAppendErrorNamesTheFileOnce(t *testing.T) {
	dir := t.TempDir()
	b := buffer.New(dir, false)
	if err := os.Mkdir(b.PendingPath(), 0o700); err != nil { // a folder where the file should be
		t.Fatal(err)
	}
	err := b.Append(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.1"})
	if err == nil {
		t.Fatal("append into a folder succeeded")
	}
	if n := strings.Count(err.Error(), b.PendingPath()); n != 1 || !errors.Is(err, syscall.EISDIR) {
		t.Errorf("error %q names %s %d times (want once) or lost its cause", err, b.PendingPath(), n)
	}
}
