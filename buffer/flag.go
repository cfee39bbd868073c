package buffer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// FlagNotRemovedFile is the file, in the buffer folder, where a flush that
// could not remove the flag file records which flag that was and why, so
// that bans do not start a flush (and send a report) for it again and again.
const FlagNotRemovedFile = "flag-not-removed"

// FlagState is what the flag path holds.
type FlagState int

const (
	// FlagAbsent: nothing asks for a report.
	FlagAbsent FlagState = iota
	// FlagSet: a regular file; the next ban starts a flush.
	FlagSet
	// FlagStuck: the very file an earlier flush could not remove; bans start
	// no flush for it until it is created anew (or touched).
	FlagStuck
	// FlagNotFile: a folder, a symbolic link or anything else that is not a
	// regular file; it never starts a flush.
	FlagNotFile
)

// Flag is what the flag path holds, as the ban path and the flush see it.
type Flag struct {
	Path   string
	State  FlagState
	Info   fs.FileInfo // what is at Path; nil when absent
	Err    error       // looking at Path failed (other than it not existing)
	Reason string      // FlagStuck: why the earlier flush could not remove it
}

// Flag looks at the flag file path (one Lstat, and a read of a small file
// in the buffer folder only when the flag is there).
func (b *Buffer) Flag(path string) Flag {
	f := Flag{Path: path}
	if path == "" {
		return f
	}
	st, err := os.Lstat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			f.Err = err
		}
		return f
	}
	f.Info = st
	if !st.Mode().IsRegular() {
		f.State = FlagNotFile
		return f
	}
	f.State = FlagSet
	data, err := fsguard.ReadFile(b.path(FlagNotRemovedFile))
	if err != nil {
		return f
	}
	id, reason, _ := strings.Cut(string(data), "\n")
	if id == flagIdentity(st) {
		f.State = FlagStuck
		f.Reason = strings.TrimSpace(reason)
	}
	return f
}

// Describe says in words what the flag path holds, for status and check.
func (f Flag) Describe() string {
	switch f.State {
	case FlagSet:
		return "present: the next ban sends"
	case FlagStuck:
		return "present, but the last flush could not remove it (" + f.Reason + "): bans start no flush until it is created anew; remove it by hand"
	case FlagNotFile:
		return fsguard.Kind(f.Info.Mode()) + ", not a file: bans ignore it; remove it or fix the key flag"
	}
	if f.Err != nil {
		return "cannot be looked at: " + f.Err.Error()
	}
	return "absent"
}

// FlagNotRemoved records that the flag f could not be removed, with the
// cause, so that bans start no flush for that same file again.
func (b *Buffer) FlagNotRemoved(f Flag, cause error) error {
	if f.Info == nil {
		return nil
	}
	reason := strings.Join(strings.Fields(cause.Error()), " ")
	data := flagIdentity(f.Info) + "\n" + reason + "\n"
	return writeFileAtomic(b.path(FlagNotRemovedFile), []byte(data), b.Fsync)
}

// FlagRemoved forgets a flag that could not be removed, once it is gone.
func (b *Buffer) FlagRemoved() error {
	name := b.path(FlagNotRemovedFile)
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// flagIdentity tells one flag file from another created (or touched) later
// at the same path: device, inode, change and modification times.
func flagIdentity(st fs.FileInfo) string {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("%d", st.ModTime().UnixNano())
	}
	return fmt.Sprintf("%d %d %d.%09d %d.%09d", sys.Dev, sys.Ino, sys.Mtim.Sec, sys.Mtim.Nsec, sys.Ctim.Sec, sys.Ctim.Nsec)
}
