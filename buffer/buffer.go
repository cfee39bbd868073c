package buffer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	batchSuffix   = ".jsonl"
)

// Buffer is a buffer folder. Its methods do no I/O until called.
type Buffer struct {
	Dir   string
	Fsync bool // sync every append, claim and ledger write to disk
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
// single write, under the buffer's exclusive lock.
func (b *Buffer) AppendLine(line []byte) error {
	unlock, err := b.lock()
	if err != nil {
		return err
	}
	defer unlock()
	name := b.path(PendingFile)
	f, err := openNoFollow(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open buffer %s: %w", name, pathless(err, name))
	}
	size, torn, err := endsTorn(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("read end of buffer %s: %w", name, err)
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
		return fmt.Errorf("write buffer %s: %w", name, pathless(err, name))
	}
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

// lock takes the buffer's exclusive lock, creating the folder if needed.
func (b *Buffer) lock() (func(), error) {
	name := b.path(LockFile)
	l := flock.New(name, flock.SetFlag(lockFlags), flock.SetPermissions(0o600))
	err := l.Lock()
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(b.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("create buffer folder %s: %w", b.Dir, err)
		}
		err = l.Lock()
	}
	if err != nil {
		return nil, fmt.Errorf("lock buffer %s: %w", name, pathless(err, name))
	}
	return func() { _ = l.Unlock() }, nil
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
// so a killed flush leaves nothing stale behind: the temporary ledger files a
// flush killed in the middle of SaveLedger left are removed here, since only
// the holder of this lock writes the ledger.
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
	if err := b.removeStaleTemps(); err != nil {
		_ = l.Unlock()
		return nil, false, err
	}
	return func() { _ = l.Unlock() }, true, nil
}

// removeStaleTemps removes what writeFileAtomic leaves when its process dies
// between creating the temporary file and renaming it.
func (b *Buffer) removeStaleTemps() error {
	stale, err := filepath.Glob(filepath.Join(b.Dir, LedgerFile+".tmp*"))
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", name, err)
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

// Claim moves the pending records into a new spool batch, under the lock, so
// that bans arriving meanwhile go to a fresh pending file. It returns nil when
// nothing is pending. now names the batch and dates it for retention.
func (b *Buffer) Claim(now time.Time) (*Batch, error) {
	spool := b.path(SpoolDir)
	if err := realDir(spool); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	unlock, err := b.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	pending := b.path(PendingFile)
	st, err := regular("claim", pending)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st.Size() == 0) {
		return nil, nil
	}
	if errors.Is(err, fsguard.ErrNotRegular) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", pending, err)
	}
	// Never overwrite a batch, even if the clock went back.
	ns := now.UnixNano()
	id := fmt.Sprintf("%020d", ns)
	dst := filepath.Join(spool, id+batchSuffix)
	for _, err := os.Lstat(dst); err == nil; _, err = os.Lstat(dst) {
		ns++
		id = fmt.Sprintf("%020d", ns)
		dst = filepath.Join(spool, id+batchSuffix)
	}
	if err := os.Rename(pending, dst); err != nil {
		return nil, fmt.Errorf("claim %s: %w", pending, err)
	}
	if b.Fsync {
		if err := syncDir(spool); err != nil {
			return nil, err
		}
		if err := syncDir(b.Dir); err != nil {
			return nil, err
		}
	}
	return &Batch{ID: id, Path: dst, Size: st.Size(), Claimed: time.Unix(0, ns)}, nil
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

func syncDir(dir string) error {
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

// writeFileAtomic writes data to name through a temporary file and a rename,
// so a reader sees the old content or the new, never half of it.
func writeFileAtomic(name string, data []byte, fsync bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
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
		return syncDir(filepath.Dir(name))
	}
	return nil
}
