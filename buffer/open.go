package buffer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// Every file of the buffer folder is opened without following a symbolic
// link and must be a regular file: f2b-notify runs as root, and a link
// planted in a folder that someone else can write must not make it append
// to, truncate or read a file elsewhere.

// openNoFollow is os.OpenFile for the files of the buffer folder: a symbolic
// link, a folder or a pipe there is refused with an error naming it.
func openNoFollow(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return fsguard.Open(name, flag, perm)
}

// lockFlags open a lock file: created if missing, never through a link.
const lockFlags = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW

// realDir creates dir if needed and checks that it is a folder, not a
// symbolic link to one elsewhere.
func realDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is %s, not a folder: refused", dir, fsguard.Kind(st.Mode()))
	}
	return nil
}

// regular returns nil when name is missing or a regular file, else an error
// naming what it is.
func regular(what, name string) (fs.FileInfo, error) {
	st, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return st, fmt.Errorf("%s %s: %w: %s, refused", what, name, fsguard.ErrNotRegular, fsguard.Kind(st.Mode()))
	}
	return st, nil
}

// namedLink says what O_NOFOLLOW's ELOOP means: the file is a symbolic link
// (the lock files are opened by the flock package, not by openNoFollow).
func namedLink(err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%w: a symbolic link, never followed (%w)", fsguard.ErrNotRegular, err)
	}
	return err
}
