package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// stamped returns writers for out and errw that begin each line with the
// time, in RFC 3339, and never interleave a line of one with a line of the
// other: both go to the detached flush's log.
func stamped(out, errw io.Writer, now func() time.Time) (io.Writer, io.Writer) {
	mu := &sync.Mutex{}
	return &stampWriter{mu: mu, w: out, now: now, atStart: true},
		&stampWriter{mu: mu, w: errw, now: now, atStart: true}
}

type stampWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	now     func() time.Time
	atStart bool // the next byte begins a line
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	for rest := p; len(rest) > 0; {
		if s.atStart {
			b.WriteString(stampLine(s.now(), ""))
			s.atStart = false
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			b.Write(rest)
			break
		}
		b.Write(rest[:i+1])
		rest = rest[i+1:]
		s.atStart = true
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// stampLine is line with the time in front, as the flush log has it.
func stampLine(t time.Time, line string) string {
	return t.Format(time.RFC3339) + " " + line
}

// unstamp takes the time off the front of a line of the flush log.
func unstamp(line string) string {
	head, rest, ok := strings.Cut(line, " ")
	if !ok {
		return line
	}
	if _, err := time.Parse(time.RFC3339, head); err != nil {
		return line
	}
	return rest
}
