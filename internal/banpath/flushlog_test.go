package banpath

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlushLogKeepsItsLastLines: a flush log past its bound keeps its newest
// whole lines, not an empty file, and a log within it is left alone.
func TestFlushLogKeepsItsLastLines(t *testing.T) {
	name := filepath.Join(t.TempDir(), "last-flush.log")
	var b bytes.Buffer
	for i := 0; b.Len() <= 4000; i++ {
		fmt.Fprintf(&b, "2026-12-01T19:00:00Z line %d\n", i)
	}
	if err := os.WriteFile(name, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keepTail(f, 8000, 1000) // within the bound
	if got, _ := os.ReadFile(name); !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("a log within its bound was changed: %d bytes of %d", len(got), b.Len())
	}
	keepTail(f, 3000, 1000)
	got, _ := os.ReadFile(name)
	if len(got) == 0 || len(got) > 1000 {
		t.Fatalf("the log is %d bytes; want its last lines, within 1000", len(got))
	}
	if !bytes.HasSuffix(b.Bytes(), got) || !strings.HasPrefix(string(got), "2026-") {
		t.Errorf("the log kept is not the old one's last whole lines:\n%s", got)
	}
	// Appending goes on after the kept lines.
	if _, err := f.WriteString("next\n"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(name); string(after) != string(got)+"next\n" {
		t.Errorf("appending after the cut: %q", after[max(len(after)-40, 0):])
	}
}
