package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
)

// Log lines kept by reference are read back from the open file: a batch a
// flush renames or deletes between the scan and the digest (preview takes no
// lock) still shows its lines.
func TestRefsSurviveRenameAndDelete(t *testing.T) {
	dir := t.TempDir()
	buf := buffer.New(dir, false)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Time: 1795628212, Failures: 3,
			Matches: []string{"Nov 25 vm sshd[1]: Invalid user zed from " + ip}}
		if err := buf.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	files := make([]*os.File, 1)
	b := report.NewBuilder(report.Options{Host: "vm", Files: files})
	f, _, err := buffer.OpenScan(buf.PendingPath(), buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, off int64, n int) error {
		b.AddRef(r, report.LineRef{File: 0, Off: off, Len: int32(n)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files[0] = f
	// A flush claims the file, then deletes the batch.
	claimed := filepath.Join(dir, "claimed.jsonl")
	if err := os.Rename(buf.PendingPath(), claimed); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(claimed); err != nil {
		t.Fatal(err)
	}
	d := b.Digest()
	if len(d.Offenders) != 2 {
		t.Fatalf("%d offenders, want 2", len(d.Offenders))
	}
	for _, o := range d.Offenders {
		if len(o.Matches) != 1 || !strings.HasSuffix(o.Matches[0], "Invalid user zed from "+o.IP) {
			t.Errorf("%s: log lines %q, want its own line read back", o.IP, o.Matches)
		}
	}
	// Without the file, the report says so rather than failing.
	b2 := report.NewBuilder(report.Options{Host: "vm", Files: []*os.File{nil}})
	b2.AddRef(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.9", Lines: 1}, report.LineRef{File: 0, Off: 0, Len: 10})
	if got := b2.Digest().Offenders[0].Matches; len(got) != 1 || got[0] != "(log line no longer readable)" {
		t.Errorf("missing file: log lines %q", got)
	}
}

// A file the caller did not keep open is opened again by its path to read
// its lines back: a digest of thousands of batches need not hold them all
// open. Files opened so are read a few at a time, any number of them.
func TestRefsReadBackByPath(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	paths := make([]string, n)
	b := report.NewBuilder(report.Options{Host: "vm", Files: make([]*os.File, n), Paths: paths})
	for i := range n {
		buf := buffer.New(filepath.Join(dir, fmt.Sprint(i)), false)
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Time: 1795628212, Failures: 3,
			Matches: []string{"Nov 25 vm sshd[1]: Invalid user zed from " + ip}}
		if err := buf.Append(r); err != nil {
			t.Fatal(err)
		}
		paths[i] = buf.PendingPath()
		if _, err := buffer.ScanFileWith(paths[i], buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, off int64, l int) error {
			b.AddRef(r, report.LineRef{File: int32(i), Off: off, Len: int32(l)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(paths[7]); err != nil { // deleted meanwhile
		t.Fatal(err)
	}
	d := b.Digest()
	if len(d.Offenders) != n {
		t.Fatalf("%d offenders, want %d", len(d.Offenders), n)
	}
	for _, o := range d.Offenders {
		want := "Invalid user zed from " + o.IP
		if o.IP == "192.0.2.8" {
			want = "(log line no longer readable)"
		}
		if len(o.Matches) != 1 || !strings.HasSuffix(o.Matches[0], want) {
			t.Errorf("%s: log lines %q, want %q", o.IP, o.Matches, want)
		}
	}
}

// A channel down for a month with a flush a minute has tens of thousands of
// batches waiting: a line is read back from any of them.
func TestRefsIntoTheFortyThousandthFile(t *testing.T) {
	buf := buffer.New(t.TempDir(), false)
	r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.1", Time: 1795628212, Failures: 3,
		Matches: []string{"first line", "Nov 25 vm sshd[1]: Invalid user zed from 192.0.2.1"}}
	if err := buf.Append(r); err != nil {
		t.Fatal(err)
	}
	const n = 40000
	paths := make([]string, n)
	paths[n-1] = buf.PendingPath()
	b := report.NewBuilder(report.Options{Host: "vm", Files: make([]*os.File, n), Paths: paths})
	if _, err := buffer.ScanFileWith(paths[n-1], buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, off int64, l int) error {
		b.AddRef(r, report.LineRef{File: n - 1, Off: off, Len: int32(l)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := b.Digest().Offenders[0].Matches; len(got) != 2 || got[1] != r.Matches[1] {
		t.Errorf("log lines %q, want %q", got, r.Matches)
	}
}
