package buffer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// MaxLine is the longest record line a reader accepts; longer lines are
// skipped and counted as damaged. fail2ban's arguments are bounded by the
// kernel's 128 KiB per argument, so a real record stays far below it.
const MaxLine = 4 << 20

// ScanStats counts what a scan read.
type ScanStats struct {
	Records int // records handed to the callback
	Torn    int // lines that were damaged, too long or of an unknown schema, skipped
}

// Add sums two counts.
func (s *ScanStats) Add(o ScanStats) {
	s.Records += o.Records
	s.Torn += o.Torn
}

// ScanFile streams the records of a batch or pending file to fn, in file
// order. A missing file has no records. Damaged lines are skipped and counted,
// never fatal; an error from fn stops the scan and is returned.
func ScanFile(name string, fn func(*Record) error) (ScanStats, error) {
	return ScanFileAt(name, func(r *Record, _ int64, _ int) error { return fn(r) })
}

// ScanFileAt is ScanFile that also tells where each record's line starts in
// the file and how long it is, so that a reader can keep a reference instead
// of the text and read it again later (see ReadRecordAt).
func ScanFileAt(name string, fn func(r *Record, off int64, n int) error) (ScanStats, error) {
	return ScanFileWith(name, ScanOptions{}, fn)
}

// ScanOptions tune a scan.
type ScanOptions struct {
	// SkipMatches counts each record's log lines in Record.Lines instead of
	// decoding them into Record.Matches.
	SkipMatches bool
}

// ScanFileWith is ScanFileAt with options.
func ScanFileWith(name string, opt ScanOptions, fn func(r *Record, off int64, n int) error) (ScanStats, error) {
	f, st, err := OpenScan(name, opt, fn)
	if f != nil {
		f.Close()
	}
	return st, err
}

// OpenScan is ScanFileWith that leaves the file open for ReadRecordAt and
// returns it (nil when the file does not exist); the caller closes it. An
// open file keeps its records readable even if a flush renames or deletes
// it meanwhile.
func OpenScan(name string, opt ScanOptions, fn func(r *Record, off int64, n int) error) (*os.File, ScanStats, error) {
	f, err := openNoFollow(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ScanStats{}, nil
	}
	if err != nil {
		return nil, ScanStats{}, fmt.Errorf("read buffer %s: %w", name, pathless(err, name))
	}
	st, err := scan(f, opt, fn)
	if err != nil {
		f.Close()
		return nil, st, fmt.Errorf("read buffer %s: %w", name, err)
	}
	return f, st, nil
}

// Scan streams records from r to fn; see ScanFile.
func Scan(r io.Reader, fn func(*Record) error) (ScanStats, error) {
	return scan(r, ScanOptions{}, func(r *Record, _ int64, _ int) error { return fn(r) })
}

// readers are the scans' read buffers, reused: a digest of thousands of
// small batches would otherwise allocate 256 KiB for each.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

func scan(r io.Reader, opt ScanOptions, fn func(*Record, int64, int) error) (ScanStats, error) {
	var st ScanStats
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // not to keep r alive
		readers.Put(br)
	}()
	var long bool // inside a line longer than the reader's buffer
	var acc []byte
	var pos, start int64 // bytes read; where the current line starts
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			start = pos
		}
		pos += int64(len(chunk))
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !long {
				acc = append(acc[:0], chunk...)
				long = true
			} else if len(acc) <= MaxLine {
				acc = append(acc, chunk...)
			}
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return st, err
		}
		line := chunk
		if long {
			line = append(acc, chunk...)
			long = false
		}
		if stop := decodeLine(line, start, opt.SkipMatches, &st, fn); stop != nil {
			return st, stop
		}
		if err != nil { // io.EOF
			return st, nil
		}
	}
}

// decodeLine decodes one line and hands it to fn. Blank lines are ignored.
func decodeLine(line []byte, off int64, skip bool, st *ScanStats, fn func(*Record, int64, int) error) error {
	n := len(line)
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	if len(line) > MaxLine {
		st.Torn++
		return nil
	}
	var r Record
	if err := decodeRecordSkip(line, &r, skip); err != nil || r.V != SchemaVersion || r.IP == "" || r.Jail == "" {
		st.Torn++
		return nil
	}
	st.Records++
	return fn(&r, off, n)
}

// ReadRecordAt decodes the record whose line ScanFileAt reported at off, n
// bytes long, from the open file f.
func ReadRecordAt(f *os.File, off int64, n int) (*Record, error) {
	if n <= 0 || n > MaxLine+2 {
		return nil, fmt.Errorf("read record at %d in %s: bad length %d", off, f.Name(), n)
	}
	line := make([]byte, n)
	if _, err := f.ReadAt(line, off); err != nil {
		return nil, fmt.Errorf("read record at %d in %s: %w", off, f.Name(), err)
	}
	var r Record
	if err := decodeRecord(bytes.TrimSpace(line), &r); err != nil {
		return nil, fmt.Errorf("read record at %d in %s: %w", off, f.Name(), err)
	}
	return &r, nil
}
