package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gofrs/flock"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// probeBuffer tells whether a ban can be stored in the buffer folder dir, as
// the ban path stores it: a file can be created and removed there (a ban
// that finds the lock busy writes a file of its own), the lock file can be
// opened and locked, and the pending file, if there, opened for appending.
// It writes no record; a lock that another process holds is fine.
func probeBuffer(dir string) error {
	if err := probeCreate(dir); err != nil {
		return err
	}
	lockName := filepath.Join(dir, buffer.LockFile)
	l := flock.New(lockName, flock.SetFlag(os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW), flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return fmt.Errorf("cannot take the buffer lock %s: %w", lockName, err)
	}
	if ok {
		_ = l.Unlock()
	}
	pending := filepath.Join(dir, buffer.PendingFile)
	f, err := fsguard.Open(pending, os.O_WRONLY|os.O_APPEND, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("cannot append to the buffer file %s: %w", pending, err)
	default:
		f.Close()
	}
	return nil
}

// probeCreate creates and removes a file in dir.
func probeCreate(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("cannot remove %s: %w", f.Name(), err)
	}
	return nil
}
