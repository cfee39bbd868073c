package buffer_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// TestFilesOfTheBufferAreNeverFollowedElsewhere plants a symbolic link to
// a file outside the folder in place of each file of the buffer: every
// operation on it is refused with an error naming the file, and the target
// is byte for byte what it was.
func TestFilesOfTheBufferAreNeverFollowedElsewhere(t *testing.T) {
	ops := map[string]func(b *buffer.Buffer) error{
		buffer.PendingFile: func(b *buffer.Buffer) error { return b.Append(rec("sshd", "192.0.2.1", 1)) },
		buffer.PendingFile + " (claim)": func(b *buffer.Buffer) error {
			_, err := b.Claim(time.Now())
			return err
		},
		buffer.PendingFile + " (scan)": func(b *buffer.Buffer) error {
			_, err := buffer.ScanFile(b.PendingPath(), func(*buffer.Record) error { return nil })
			return err
		},
		buffer.LockFile:      func(b *buffer.Buffer) error { return b.Append(rec("sshd", "192.0.2.1", 1)) },
		buffer.FlushLockFile: func(b *buffer.Buffer) error { _, _, err := b.TryLockFlush(); return err },
		buffer.LedgerFile:    func(b *buffer.Buffer) error { _, err := b.LoadLedger(); return err },
		buffer.SpoolDir: func(b *buffer.Buffer) error {
			if err := b.Append(rec("sshd", "192.0.2.1", 1)); err != nil {
				return err
			}
			_, err := b.Claim(time.Now())
			return err
		},
		buffer.SpoolDir + " (list)": func(b *buffer.Buffer) error { _, err := b.Batches(); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			outside := filepath.Join(dir, "outside")
			if err := os.Mkdir(outside, 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(outside, "root-only")
			content := []byte("root:secret:1:2\n")
			if err := os.WriteFile(target, content, 0o600); err != nil {
				t.Fatal(err)
			}
			b := buffer.New(filepath.Join(dir, "buf"), false)
			if err := os.Mkdir(b.Dir, 0o750); err != nil {
				t.Fatal(err)
			}
			file, _, _ := strings.Cut(name, " ")
			to := target
			if file == buffer.SpoolDir {
				to = outside
			}
			link := filepath.Join(b.Dir, file)
			if err := os.Symlink(to, link); err != nil {
				t.Fatal(err)
			}
			err := op(b)
			if err == nil {
				t.Fatalf("%s through a symbolic link: no error", name)
			}
			if !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("the error does not name %s as a symbolic link: %v", link, err)
			}
			if got, _ := os.ReadFile(target); !bytes.Equal(got, content) {
				t.Errorf("the link's target changed: %q", got)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Errorf("files were created in the folder the link points to: %v", entries)
			}
		})
	}
}

func TestPendingThatIsAFolderIsRefused(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	if err := os.Mkdir(b.PendingPath(), 0o700); err != nil {
		t.Fatal(err)
	}
	err := b.Append(rec("sshd", "192.0.2.1", 1))
	if err == nil || !strings.Contains(err.Error(), b.PendingPath()) {
		t.Errorf("append to a folder: %v", err)
	}
	if _, err := b.Claim(time.Now()); !errors.Is(err, fsguard.ErrNotRegular) || !strings.Contains(err.Error(), "a folder") {
		t.Errorf("claim of a folder: %v, want it refused as a folder", err)
	}
}
