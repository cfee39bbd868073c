package buffer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// File names inside the buffer folder.
const (
	PendingFile   = "pending.jsonl"
	LockFile      = "lock"
	FlushLockFile = "flush.lock"
	SpoolDir      = "spool"
	LedgerFile    = "ledger.json"
	// HistoryFile holds what earlier reports sent (internal/history).
	HistoryFile = "history"
	batchSuffix = ".jsonl"
)

// lockedFiles are the files of the buffer folder that only the holder of
// the flush lock writes, each through a temporary file (NAME.tmp*) renamed
// over it.
var lockedFiles = []string{LedgerFile, FlagNotRemovedFile, HistoryFile}

// Buffer is a buffer folder. Its methods do no I/O until called.
type Buffer struct {
	Dir   string
	Fsync bool // sync every append, claim and ledger write to disk
	// LockWait bounds how long an append waits for the buffer's lock
	// before it writes a file of its own; 0 means DefaultLockWait.
	LockWait time.Duration
}

// New returns the buffer in dir.
func New(dir string, fsync bool) *Buffer {
	return &Buffer{Dir: dir, Fsync: fsync}
}

func (b *Buffer) path(name string) string { return filepath.Join(b.Dir, name) }

// Append stores one record. When it returns nil the record is on disk.
func (b *Buffer) Append(r *Record) error {
	line, err := r.Marshal()
	if err != nil {
		return err
	}
	return b.AppendLine(line)
}

// AppendLine stores one encoded record line (ending in a newline) with a
// single write. It waits for the buffer's lock at most LockWait; when
// another process holds the lock longer (a flush on a slow disk, a stuck
// process), the line goes into a file of its own in the buffer folder
// instead (see Claim), so that a ban never waits on anyone.
func (b *Buffer) AppendLine(line []byte) error {
	unlock, ok, err := b.lockWithin(b.lockWait())
	if err != nil {
		return err
	}
	if !ok {
		return b.appendSide(line)
	}
	f, err := b.appendLocked(line)
	unlock()
	if err != nil {
		return err
	}
	// Synced after the lock is released: the line is written, and nobody
	// else needs to wait for the disk. A claim that renames the file
	// meanwhile keeps the same inode, which this descriptor syncs.
	name := b.path(PendingFile)
	if b.Fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync buffer %s: %w", name, pathless(err, name))
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close buffer %s: %w", name, pathless(err, name))
	}
	return nil
}

// appendLocked writes line at the end of the pending file; the caller holds
// the lock, and syncs and closes the file returned.
func (b *Buffer) appendLocked(line []byte) (*os.File, error) {
	name := b.path(PendingFile)
	f, err := openNoFollow(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open buffer %s: %w", name, pathless(err, name))
	}
	size, torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read end of buffer %s: %w", name, err)
	}
	if torn {
		// A crash left half a line: start ours on a fresh one.
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		// A full disk or a file size limit can take part of the line: cut
		// the file back to what it was, so that a failed ban leaves no
		// damaged line behind. We hold the lock, so nobody wrote meanwhile.
		_ = f.Truncate(size)
		f.Close()
		return nil, fmt.Errorf("write buffer %s: %w", name, pathless(err, name))
	}
	return f, nil
}

// endsTorn returns the file's size and whether the file is not empty and its
// last byte is not a newline: the mark of a write cut short by a crash.
func endsTorn(f *os.File) (int64, bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
		return 0, false, err
	}
	return st.Size(), last[0] != '\n', nil
}

// pathless drops the file name from an *fs.PathError about name, so that an
// error that already names the file says it once: "write buffer F: no space
// left on device", not "write buffer F: write F: no space left on device".
// The cause stays in the chain for errors.Is.
func pathless(err error, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == name {
		return namedLink(pe.Err)
	}
	return err
}

// TryLockFlush takes the single-flight flush lock without waiting. ok is false
// when another flush holds it. The lock dies with the process that holds it,
// so a killed flush leaves nothing stale behind: the temporary files a flush
// killed while it saved the ledger, the history or the note of a flag it
// could not remove are removed here, since only the holder of this lock
// writes those.
func (b *Buffer) TryLockFlush() (unlock func(), ok bool, err error) {
	if err := os.MkdirAll(b.Dir, 0o750); err != nil {
		return nil, false, fmt.Errorf("create buffer folder %s: %w", b.Dir, err)
	}
	name := b.path(FlushLockFile)
	l := flock.New(name, flock.SetFlag(lockFlags), flock.SetPermissions(0o600))
	ok, err = l.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	if err := b.removeStaleTemps(time.Now()); err != nil {
		_ = l.Unlock()
		return nil, false, err
	}
	return func() { _ = l.Unlock() }, true, nil
}

// removeStaleTemps removes, under the flush lock, what a process killed
// between creating a temporary file and renaming it left: the temporary
// files of lockedFiles, whose writer held the lock and so is gone, and the
// temporary file of an append killed while it wrote a file of its own (see
// appendSide), once it is old enough not to be an append running now. Such
// an append did not succeed, so fail2ban ran it again.
func (b *Buffer) removeStaleTemps(now time.Time) error {
	entries, err := os.ReadDir(b.Dir)
	if err != nil {
		return fmt.Errorf("read buffer folder %s: %w", b.Dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		stale := slices.ContainsFunc(lockedFiles, func(f string) bool { return strings.HasPrefix(name, f+".tmp") })
		if !stale && strings.HasPrefix(name, sidePrefix) && strings.HasSuffix(name, sideTemp) {
			// An append writes its file in a few milliseconds; one this
			// old belongs to a process that died.
			info, err := e.Info()
			stale = err == nil && now.Sub(info.ModTime()) > staleSideAge
		}
		if !stale {
			continue
		}
		if err := os.Remove(b.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", b.path(name), err)
		}
	}
	return nil
}

// Batch is a claimed file of records in the spool.
type Batch struct {
	ID      string // sortable, unique: claim time in nanoseconds, zero-padded
	Path    string
	Size    int64
	Claimed time.Time
}

// Paths lists the files of batches, in order.
func Paths(batches []Batch) []string {
	out := make([]string, len(batches))
	for i, b := range batches {
		out[i] = b.Path
	}
	return out
}

// Claim moves the pending records into new spool batches so that bans
// arriving meanwhile go to a fresh pending file: pending.jsonl becomes one
// batch, and each file of its own that an append wrote while the lock was
// busy (see AppendLine) becomes one more. It returns nil when nothing is
// pending. now names the batches and dates them for retention. Only the
// holder of the flush lock claims.
//
// Every step is one rename, so a record is always in exactly one place: in
// the buffer folder, where the next claim takes it, or in the spool. A claim
// that dies part way leaves the rest for the next one, and a file an append
// renames into place while the claim runs is taken now or next time. The
// lock is held for the rename of pending.jsonl only; the folders are synced
// after it is released, before Claim returns and anything is sent.
func (b *Buffer) Claim(now time.Time) ([]Batch, error) {
	spool := b.path(SpoolDir)
	if err := realDir(spool); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	// Never overwrite a batch, even if the clock went back.
	ns := now.UnixNano()
	next := func() (id, dst string) {
		for {
			id = fmt.Sprintf("%020d", ns)
			dst = filepath.Join(spool, id+batchSuffix)
			ns++
			if _, err := os.Lstat(dst); err != nil {
				return id, dst
			}
		}
	}
	var out []Batch
	claimed := func(id, dst string) error {
		st, err := os.Lstat(dst)
		if err != nil {
			return fmt.Errorf("claim %s: %w", dst, err)
		}
		if st.Size() == 0 { // an append that failed left an empty file
			if err := os.Remove(dst); err != nil {
				return fmt.Errorf("remove empty batch %s: %w", dst, err)
			}
			return nil
		}
		ns, _ := strconv.ParseInt(id, 10, 64)
		out = append(out, Batch{ID: id, Path: dst, Size: st.Size(), Claimed: time.Unix(0, ns)})
		return nil
	}

	pending := b.path(PendingFile)
	id, dst := next()
	unlock, err := b.lock()
	if err != nil {
		return nil, err
	}
	if _, err := regular("claim", pending); errors.Is(err, fsguard.ErrNotRegular) {
		unlock()
		return nil, err
	}
	err = os.Rename(pending, dst)
	unlock()
	switch {
	case err == nil:
		if err := claimed(id, dst); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("claim %s: %w", pending, err)
	}

	sides, err := b.sideFiles()
	if err != nil {
		return nil, err
	}
	for _, name := range sides {
		id, dst := next()
		if err := os.Rename(name, dst); err != nil {
			return nil, fmt.Errorf("claim %s: %w", name, err)
		}
		if err := claimed(id, dst); err != nil {
			return nil, err
		}
	}
	if b.Fsync && (len(out) > 0 || len(sides) > 0) {
		if err := syncDir(spool); err != nil {
			return nil, err
		}
		if err := syncDir(b.Dir); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Batches lists the spool's batches, oldest first.
func (b *Buffer) Batches() ([]Batch, error) {
	spool := b.path(SpoolDir)
	if st, err := os.Lstat(spool); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("list spool: %s is %s, not a folder: refused", spool, fsguard.Kind(st.Mode()))
	}
	entries, err := os.ReadDir(spool)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list spool %s: %w", spool, err)
	}
	var out []Batch
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), batchSuffix)
		if !ok || e.IsDir() {
			continue
		}
		ns, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Batch{ID: id, Path: filepath.Join(spool, e.Name()), Size: info.Size(), Claimed: time.Unix(0, ns)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RemoveBatch deletes a delivered or expired batch.
func (b *Buffer) RemoveBatch(id string) error {
	name := filepath.Join(b.path(SpoolDir), id+batchSuffix)
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove batch %s: %w", name, err)
	}
	return nil
}

// PendingPath is the file new records are appended to.
func (b *Buffer) PendingPath() string { return b.path(PendingFile) }

func syncDir(dir string) error { return fsguard.SyncDir(dir) }

// writeFileAtomic writes data to name through a temporary file and a rename,
// so a reader sees the old content or the new, never half of it.
func writeFileAtomic(name string, data []byte, fsync bool) error {
	return fsguard.WriteFileAtomic(name, data, 0o600, fsync)
}
