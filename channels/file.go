package channels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// File appends the text report to a file, or writes it to a stream ("-" is
// standard output). It is the channel for logs, for tests and for the demo.
type File struct {
	name string
	path string
	w    io.Writer // when set, used instead of path
	mu   sync.Mutex
}

type fileSettings struct {
	Path string `mapstructure:"path"`
}

func newFileFromSettings(name string, settings map[string]any) (Channel, error) {
	var s fileSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if s.Path == "" {
		return nil, fmt.Errorf("channel %q: key path: missing (a file, or - for standard output)", name)
	}
	if s.Path == "-" {
		return NewFile(name, os.Stdout), nil
	}
	return &File{name: name, path: s.Path}, nil
}

// NewFile returns a file channel that writes to w.
func NewFile(name string, w io.Writer) *File { return &File{name: name, w: w} }

// Check implements Checker: the file's folder exists, and the file can be
// created or appended to there.
func (f *File) Check() error {
	if f.w != nil {
		return nil
	}
	dir := filepath.Dir(f.path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("channel %q: key path: the folder %s does not exist; create it (mkdir -p %s), or set path to a file in an existing folder", f.name, dir, dir)
	case err != nil:
		return fmt.Errorf("channel %q: key path: %w", f.name, err)
	case !st.IsDir():
		return fmt.Errorf("channel %q: key path: %s is %s, not a folder", f.name, dir, fsguard.Kind(st.Mode()))
	}
	target := dir // a file to be created: its folder must be writable
	if st, err := os.Stat(f.path); err == nil {
		if st.IsDir() {
			return fmt.Errorf("channel %q: key path: %s is a folder; set path to a file in it", f.name, f.path)
		}
		target = f.path
	}
	if err := syscall.Access(target, 2 /* W_OK */); err != nil {
		return fmt.Errorf("channel %q: key path: %s cannot be written: %w", f.name, target, err)
	}
	return nil
}

// Name implements Channel.
func (f *File) Name() string { return f.name }

// Formats implements Channel: the text report.
func (f *File) Formats() []Format { return []Format{Text} }

// Limit implements Channel: none.
func (f *File) Limit() int { return 0 }

// fileEntry is what Send appends: the subject as a heading line, the body,
// and a blank line.
func fileEntry(subject, body string) *strings.Builder {
	var b strings.Builder
	b.WriteString("=== ")
	b.WriteString(subject)
	b.WriteString(" ===\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\n") {
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return &b
}

// Payload implements Payloader: the text Send would append for m.
func (f *File) Payload(m Message) ([]byte, error) {
	var out []byte
	for _, body := range m.Messages(Text) {
		out = append(out, fileEntry(m.Subject, body).String()...)
	}
	return out, nil
}

// Send writes the subject as a heading line, the body, and a blank line.
func (f *File) Send(ctx context.Context, subject, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := fileEntry(subject, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w != nil {
		_, err := io.WriteString(f.w, b.String())
		return err
	}
	out, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err // an *fs.PathError: it names the operation and the file
	}
	if _, err := out.WriteString(b.String()); err != nil {
		out.Close()
		return err
	}
	// Sync regular files only: a FIFO, a terminal or /dev/stdout refuses it
	// after a successful write, and the report must not count as failed.
	if st, err := out.Stat(); err == nil && st.Mode().IsRegular() {
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
	}
	if err := out.Close(); err != nil {
		return err
	}
	return nil
}
