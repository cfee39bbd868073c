package buffer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return ScanStats{}, nil
	}
	if err != nil {
		return ScanStats{}, fmt.Errorf("read buffer %s: %w", name, err)
	}
	defer f.Close()
	st, err := Scan(f, fn)
	if err != nil {
		return st, fmt.Errorf("read buffer %s: %w", name, err)
	}
	return st, nil
}

// Scan streams records from r to fn; see ScanFile.
func Scan(r io.Reader, fn func(*Record) error) (ScanStats, error) {
	var st ScanStats
	br := bufio.NewReaderSize(r, 256<<10)
	var long bool // inside a line longer than the reader's buffer
	var acc []byte
	for {
		chunk, err := br.ReadSlice('\n')
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
		if stop := decodeLine(line, &st, fn); stop != nil {
			return st, stop
		}
		if err != nil { // io.EOF
			return st, nil
		}
	}
}

// decodeLine decodes one line and hands it to fn. Blank lines are ignored.
func decodeLine(line []byte, st *ScanStats, fn func(*Record) error) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	if len(line) > MaxLine {
		st.Torn++
		return nil
	}
	var r Record
	if err := decodeRecord(line, &r); err != nil || r.V != SchemaVersion || r.IP == "" || r.Jail == "" {
		st.Torn++
		return nil
	}
	st.Records++
	return fn(&r)
}
