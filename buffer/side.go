package buffer

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// DefaultLockWait is how long an append waits for the buffer's lock before
// it writes its record in a file of its own: well under a second, since
// fail2ban runs one action at a time for the whole host and kills one that
// outlives its timeout.
const DefaultLockWait = 250 * time.Millisecond

// Files of their own that appends write when the lock is busy:
// pending.ID.jsonl, written first as pending.ID.tmp and renamed when whole.
const (
	sidePrefix = "pending."
	sideSuffix = ".jsonl"
	sideTemp   = ".tmp"
	// staleSideAge is the age after which the flush removes a temporary
	// file of an append that died before renaming it.
	staleSideAge = time.Hour
)

func (b *Buffer) lockWait() time.Duration {
	if b.LockWait > 0 {
		return b.LockWait
	}
	return DefaultLockWait
}

// lock takes the buffer's exclusive lock, waiting as long as it takes.
func (b *Buffer) lock() (func(), error) {
	unlock, _, err := b.lockWithin(-1)
	return unlock, err
}

// lockWithin takes the buffer's exclusive lock, creating the folder if
// needed. It tries for at most wait, then returns ok false; a negative wait
// waits as long as it takes.
func (b *Buffer) lockWithin(wait time.Duration) (unlock func(), ok bool, err error) {
	name := b.path(LockFile)
	unlock, ok, err = LockFor(name, wait)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(b.Dir, 0o750); err != nil {
			return nil, false, fmt.Errorf("create buffer folder %s: %w", b.Dir, err)
		}
		unlock, ok, err = LockFor(name, wait)
	}
	if err != nil {
		return nil, false, fmt.Errorf("lock buffer %s: %w", name, pathless(err, name))
	}
	return unlock, ok, nil
}

// LockFor takes an exclusive lock on the lock file at path, created 0600
// and never opened through a symbolic link. It tries for at most wait,
// backing off from 1 to 16 ms, then returns ok false; a negative wait
// waits as long as it takes. The error is the lock's own (a folder that
// does not exist gives fs.ErrNotExist).
func LockFor(path string, wait time.Duration) (unlock func(), ok bool, err error) {
	l := flock.New(path, flock.SetFlag(lockFlags), flock.SetPermissions(0o600))
	take := l.TryLock
	if wait < 0 {
		take = func() (bool, error) { return true, l.Lock() }
	}
	ok, err = take()
	deadline := time.Now().Add(wait)
	for delay := time.Millisecond; err == nil && !ok && time.Now().Before(deadline); delay = min(2*delay, 16*time.Millisecond) {
		time.Sleep(min(delay, time.Until(deadline)))
		ok, err = take()
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return func() { _ = l.Unlock() }, true, nil
}

// appendSide stores line in a new file of its own, without the lock: created
// exclusively under a temporary name, written with one write, synced, then
// renamed to pending.ID.jsonl. A reader sees the file whole or not at all;
// Claim moves it into the spool as a batch of its own.
func (b *Buffer) appendSide(line []byte) error {
	id := fmt.Sprintf("%020d.%d.%08x", time.Now().UnixNano(), os.Getpid(), rand.Uint32())
	tmp := b.path(sidePrefix + id + sideTemp)
	name := b.path(sidePrefix + id + sideSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("create buffer file %s (the lock %s is busy): %w", tmp, b.path(LockFile), pathless(err, tmp))
	}
	_, err = f.Write(line)
	if err == nil && b.Fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write buffer file %s (the lock %s is busy): %w", tmp, b.path(LockFile), pathless(err, tmp))
	}
	if b.Fsync {
		return syncDir(b.Dir)
	}
	return nil
}

// sideFiles lists the whole files of their own that appends wrote, oldest
// first.
func (b *Buffer) sideFiles() ([]string, error) {
	entries, err := os.ReadDir(b.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list buffer folder %s: %w", b.Dir, err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if n != PendingFile && e.Type().IsRegular() && strings.HasPrefix(n, sidePrefix) && strings.HasSuffix(n, sideSuffix) {
			out = append(out, b.path(n))
		}
	}
	return out, nil
}

// PendingPaths lists the files of records not yet claimed: pending.jsonl
// (which may not exist) and the files of their own that appends wrote while
// the lock was busy. A file a claim moves meanwhile reads as empty.
func (b *Buffer) PendingPaths() ([]string, error) {
	sides, err := b.sideFiles()
	if err != nil {
		return nil, err
	}
	return append([]string{b.PendingPath()}, sides...), nil
}

// HasRecords reports whether anything waits for a flush: a pending file
// that is not empty, or a batch in the spool.
func (b *Buffer) HasRecords() (bool, error) {
	paths, err := b.PendingPaths()
	if err != nil {
		return false, err
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return true, nil
		}
	}
	batches, err := b.Batches()
	return len(batches) > 0, err
}

// Pending counts the records waiting in the pending file and the files of
// their own (PendingPaths), and returns how many files there are.
func (b *Buffer) Pending() (ScanStats, int, error) {
	paths, err := b.PendingPaths()
	if err != nil {
		return ScanStats{}, 0, err
	}
	var all ScanStats
	for _, p := range paths {
		st, err := ScanFile(p, func(*Record) error { return nil })
		if err != nil {
			return all, len(paths), err
		}
		all.Add(st)
	}
	return all, len(paths), nil
}
