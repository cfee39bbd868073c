// Package fsguard keeps f2b-notify, which runs as root, from being steered
// by files that other users control. Open opens a file without following a
// symbolic link and refuses what is not a regular file; Check refuses a
// path that a user other than root or the one running f2b-notify could
// change or replace, as sshd's StrictModes does for a user's files. It links
// nothing beyond the standard library's os and syscall, so that the lean ban
// binary can use it.
package fsguard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotRegular is wrapped by Open's error when the file is a symbolic link,
// a folder, a pipe or anything else that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens name like os.OpenFile, except that it never follows a
// symbolic link in the last element of name and never blocks on a named
// pipe: a file that is not a regular file is refused with an error wrapping
// ErrNotRegular and naming what it is. The error is an *fs.PathError for
// name, as os.OpenFile's.
func Open(name string, flag int, perm fs.FileMode) (*os.File, error) {
	flags := flag | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	fd, err := syscall.Open(name, flags, uint32(perm.Perm()))
	for err == syscall.EINTR {
		fd, err = syscall.Open(name, flags, uint32(perm.Perm()))
	}
	if err != nil {
		if err == syscall.ELOOP {
			// O_NOFOLLOW says ELOOP for a symbolic link: name it.
			if st, lerr := os.Lstat(name); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: a symbolic link, never followed", ErrNotRegular)}
			}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: %s", ErrNotRegular, Kind(modeType(st.Mode)))}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// ReadFile is os.ReadFile through Open.
func ReadFile(name string) ([]byte, error) {
	f, err := Open(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func modeType(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}

// Kind names the type of a file mode for a person: "a folder", "a symbolic
// link", "a named pipe", ... ("a regular file" for one).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// UnsafeError says why a path is not safe to trust: Path is the file or
// folder at fault, which is the checked path itself or a folder above it.
type UnsafeError struct {
	Checked string // the path that was checked
	Path    string // the file or folder at fault
	Problem string // "writable by every user (mode 0777)", ...
	Fix     string // the command that fixes it
}

func (e *UnsafeError) Error() string {
	s := e.Path + " is " + e.Problem
	if e.Path != e.Checked {
		s = e.Checked + ": the folder " + s
	}
	return s + ", so another user could change what f2b-notify running as " + ownerName(euid()) + " reads or runs; " + e.Fix
}

// euid is the effective user id; a variable so tests can pretend.
var euid = os.Geteuid

// Check returns an *UnsafeError when a user other than root or the one
// running this program could change or replace what path names: path, what
// a symbolic link there leads to, and every folder above them up to /, must
// be owned by root or by this user and writable by neither group nor others.
// A folder above path that is owned by root, world-writable and sticky
// (/tmp) is accepted: its sticky bit stops others from renaming or removing
// what they do not own. A path that does not exist is checked from its
// nearest existing folder, which is where it would be created. Other errors
// (a folder that cannot be searched) are returned as they are.
func Check(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	// The nearest existing ancestor: what is missing would be created there.
	p := abs
	for {
		_, err := os.Lstat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("check %s: %w", path, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
	// The folders that hold the names as written (whoever can write one of
	// them can swap a link or a file there)...
	if dir := filepath.Dir(p); dir != p {
		if err := checkChain(path, dir, false); err != nil {
			return err
		}
	}
	// ...and the file itself and the folders above it once links are
	// resolved: where nothing on the way is a link, only the file is left
	// to check, its folders are the ones above.
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if real == p {
		_, err := checkOne(path, p, p == abs)
		return err
	}
	return checkChain(path, real, p == abs)
}

// CheckSetup checks the configuration file (unless configPath is "") and
// the buffer folder with Check, the first problem naming which it is. Every
// command that reads them, the ban path included, asks.
func CheckSetup(configPath, bufferDir string) error {
	if configPath != "" {
		if err := Check(configPath); err != nil {
			return fmt.Errorf("config %w", err)
		}
	}
	if err := Check(bufferDir); err != nil {
		return fmt.Errorf("buffer folder %w", err)
	}
	return nil
}

// checkChain checks p and every folder above it. first says whether p is
// the checked path itself, to which the sticky exception does not apply.
func checkChain(checked, p string, first bool) error {
	for {
		if done, err := checkOne(checked, p, first); done || err != nil {
			return err
		}
		first = false
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

// checkOne checks p alone, for Check of checked; done is true when there
// is nothing to check above it (a system without Unix owners).
func checkOne(checked, p string, first bool) (done bool, err error) {
	st, err := os.Lstat(p)
	if err != nil {
		return true, fmt.Errorf("check %s: %w", checked, err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true, nil
	}
	uid := euid()
	isLink := st.Mode()&fs.ModeSymlink != 0 // a link's own mode is always 0777
	owner := int(sys.Uid)
	switch {
	case owner != 0 && owner != uid:
		return true, &UnsafeError{Checked: checked, Path: p,
			Problem: fmt.Sprintf("owned by uid %d, not by %s", owner, strings.TrimSuffix("root or uid "+strconv.Itoa(uid), " or uid 0")),
			Fix:     "chown " + strings.TrimPrefix(ownerName(uid), "uid ") + " " + p}
	case isLink:
	case st.Mode()&0o002 != 0 && !(st.IsDir() && !first && owner == 0 && st.Mode()&fs.ModeSticky != 0):
		return true, &UnsafeError{Checked: checked, Path: p,
			Problem: fmt.Sprintf("writable by every user (mode %04o)", modeBits(st.Mode())),
			Fix:     "chmod o-w " + p}
	case st.Mode()&0o020 != 0 && !(st.IsDir() && !first && owner == 0 && st.Mode()&fs.ModeSticky != 0):
		return true, &UnsafeError{Checked: checked, Path: p,
			Problem: fmt.Sprintf("writable by its group, gid %d (mode %04o)", sys.Gid, modeBits(st.Mode())),
			Fix:     "chmod g-w " + p}
	}
	return false, nil
}

// ownerName is how chown and the messages name a user: root, or the uid.
func ownerName(uid int) string {
	if uid == 0 {
		return "root"
	}
	return "uid " + strconv.Itoa(uid)
}

// modeBits is the mode as chmod takes it: permissions with the setuid,
// setgid and sticky bits.
func modeBits(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// OpenWritable tells whether others than root and this user can write in
// dir without its sticky bit, which would let anyone there create, replace
// or remove files at will. It returns "" when not, else the problem in
// words, such as "writable by every user (mode 0777) without the sticky bit".
func OpenWritable(dir string) string {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() || st.Mode()&fs.ModeSticky != 0 {
		return ""
	}
	switch {
	case st.Mode()&0o002 != 0:
		return fmt.Sprintf("writable by every user (mode %04o) without the sticky bit", modeBits(st.Mode()))
	case st.Mode()&0o020 != 0:
		return fmt.Sprintf("writable by its group (mode %04o) without the sticky bit", modeBits(st.Mode()))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != euid() {
		return fmt.Sprintf("owned by uid %d", sys.Uid)
	}
	return ""
}

// SyncDir syncs the folder dir, so that the names created or renamed in it
// survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic writes data to name through a temporary file in its
// folder (named name.tmp*) and a rename, so that a reader sees the old
// content or the new, never half of it. The rename replaces a symbolic
// link at name instead of writing through it. perm is the file's mode.
func WriteFileAtomic(name string, data []byte, perm fs.FileMode, fsync bool) error {
	return WriteAtomic(name, perm, fsync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for content that write streams to the
// temporary file; an error from write leaves name as it was.
func WriteAtomic(name string, perm fs.FileMode, fsync bool, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if fsync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if fsync {
		return SyncDir(filepath.Dir(name))
	}
	return nil
}
