package buffer_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

func rec(jail, ip string, t float64) *buffer.Record {
	return &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: jail, IP: ip, Time: t, Failures: 3}
}

func readAll(t *testing.T, name string) ([]*buffer.Record, buffer.ScanStats) {
	t.Helper()
	var out []*buffer.Record
	st, err := buffer.ScanFile(name, func(r *buffer.Record) error { out = append(out, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

func TestAppendCreatesFolderAndRoundTrips(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	b := buffer.New(dir, true)
	in := rec("sshd", "2001:db8::1", 1795628212.5)
	in.User = "root\x1b[31m"
	in.Matches = []string{"line one $(touch x)", "<b>two</b>"}
	if err := b.Append(in); err != nil {
		t.Fatal(err)
	}
	got, st := readAll(t, b.PendingPath())
	if st.Records != 1 || st.Torn != 0 || len(got) != 1 {
		t.Fatalf("read %+v, %d records", st, len(got))
	}
	g := got[0]
	if g.IP != in.IP || g.Time != in.Time || g.User != in.User || strings.Join(g.Matches, "|") != strings.Join(in.Matches, "|") {
		t.Errorf("round trip: got %+v, want %+v", g, in)
	}
	info, err := os.Stat(b.PendingPath())
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("pending file mode %v, want 0600 (it holds log lines)", perm)
	}
}

func TestTornLineIsSkippedAndNextAppendStartsFresh(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	if err := b.Append(rec("sshd", "192.0.2.1", 1)); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves half a record and no newline.
	f, err := os.OpenFile(b.PendingPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.`)
	f.Close()
	if err := b.Append(rec("sshd", "192.0.2.3", 3)); err != nil {
		t.Fatal(err)
	}
	got, st := readAll(t, b.PendingPath())
	if st.Torn != 1 || st.Records != 2 {
		t.Fatalf("stats %+v, want 2 records and 1 torn line", st)
	}
	if got[0].IP != "192.0.2.1" || got[1].IP != "192.0.2.3" {
		t.Errorf("records %s, %s", got[0].IP, got[1].IP)
	}
}

func TestScanSkipsBadLinesAndHugeLines(t *testing.T) {
	huge := `{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.9","user":"` + strings.Repeat("x", buffer.MaxLine) + `"}`
	input := strings.Join([]string{
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1"}`,
		`not json`,
		`{"v":99,"action":"ban","jail":"sshd","ip":"192.0.2.2"}`,
		``,
		huge,
		`{"v":1,"action":"ban","jail":"","ip":"192.0.2.4"}`,
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.5"}`,
	}, "\n")
	var ips []string
	st, err := buffer.Scan(strings.NewReader(input), func(r *buffer.Record) error { ips = append(ips, r.IP); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ips, ",") != "192.0.2.1,192.0.2.5" || st.Torn != 4 {
		t.Errorf("ips %v, stats %+v; want two records and four damaged lines", ips, st)
	}
}

func TestClaimMovesPendingAndNewBansGoToAFreshFile(t *testing.T) {
	b := buffer.New(t.TempDir(), true)
	if got, err := b.Claim(time.Now()); err != nil || got != nil {
		t.Fatalf("claim of nothing: %v, %v", got, err)
	}
	for i := range 3 {
		if err := b.Append(rec("sshd", "192.0.2.1", float64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := b.Claim(time.Now())
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	batch := claimed[0]
	if _, err := os.Stat(b.PendingPath()); !os.IsNotExist(err) {
		t.Errorf("pending file still there after claim: %v", err)
	}
	if err := b.Append(rec("sshd", "192.0.2.2", 9)); err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, batch.Path); len(got) != 3 {
		t.Errorf("batch holds %d records, want 3", len(got))
	}
	if got, _ := readAll(t, b.PendingPath()); len(got) != 1 || got[0].IP != "192.0.2.2" {
		t.Errorf("fresh pending holds %v", got)
	}
	batches, err := b.Batches()
	if err != nil || len(batches) != 1 || batches[0].ID != batch.ID {
		t.Fatalf("batches %v, %v", batches, err)
	}
	if err := b.RemoveBatch(batch.ID); err != nil {
		t.Fatal(err)
	}
	if batches, _ := b.Batches(); len(batches) != 0 {
		t.Errorf("batch not removed: %v", batches)
	}
}

func TestConcurrentAppendsAreWholeLines(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	const writers, each = 8, 200
	long := strings.Repeat("m", 20000) // bigger than a pipe buffer, to catch interleaving
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := rec("sshd", "10.0.0.1", float64(w*each+i+1))
				r.Matches = []string{long}
				if err := buffer.New(b.Dir, false).Append(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Under load a writer can find the lock busy past its bound and store
	// its record in a file of its own: those count too.
	paths, err := b.PendingPaths()
	if err != nil {
		t.Fatal(err)
	}
	var got []*buffer.Record
	var st buffer.ScanStats
	for _, p := range paths {
		recs, s := readAll(t, p)
		got = append(got, recs...)
		st.Add(s)
	}
	if st.Torn != 0 || len(got) != writers*each {
		t.Fatalf("read %d records, %d torn; want %d, 0", len(got), st.Torn, writers*each)
	}
	seen := map[float64]bool{}
	for _, r := range got {
		if seen[r.Time] {
			t.Fatalf("record %v twice", r.Time)
		}
		seen[r.Time] = true
	}
}

func TestAppendFailsClearlyWhenFolderIsAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "notadir")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := buffer.New(dir, true).Append(rec("sshd", "192.0.2.1", 1))
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %v should name %s", err, dir)
	}
}

func TestFlushLockIsSingleFlight(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	unlock, ok, err := b.TryLockFlush()
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok2, err := buffer.New(b.Dir, false).TryLockFlush(); err != nil || ok2 {
		t.Fatalf("second lock taken while the first is held: %v %v", ok2, err)
	}
	unlock()
	unlock2, ok, err := b.TryLockFlush()
	if err != nil || !ok {
		t.Fatalf("lock after release: %v %v", ok, err)
	}
	unlock2()
}

func TestLedgerRoundTripAndForget(t *testing.T) {
	b := buffer.New(t.TempDir(), true)
	l, err := b.LoadLedger()
	if err != nil {
		t.Fatal(err)
	}
	l.Channel("mail").Confirmed = []string{"1", "2"}
	l.Channel("slack").Confirmed = []string{"2"}
	l.Channel("slack").Missed = 3
	if err := b.SaveLedger(l); err != nil {
		t.Fatal(err)
	}
	l2, err := b.LoadLedger()
	if err != nil {
		t.Fatal(err)
	}
	if !l2.Channel("mail").Has("1") || l2.Channel("slack").Has("1") || l2.Channel("slack").Missed != 3 {
		t.Errorf("ledger after reload: %+v", l2.Channels)
	}
	l2.Forget("2")
	if l2.Channel("mail").Has("2") || l2.Channel("slack").Has("2") {
		t.Error("Forget left the batch")
	}
}

func TestParseTimeAndIP(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"1795628212.0", 1795628212, true}, {"1795628212", 1795628212, true}, {"", 0, true}, {"abc", 0, false}, {"-5", 0, false}, {"NaN", 0, false},
		{"0", 0, true}, {"7258118399.5", 7258118399.5, true}, {"7258118400", 0, false}, {"1e18", 0, false}, {"+Inf", 0, false}} {
		got, err := buffer.ParseTime(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTime(%q) = %v, %v", c.in, got, err)
		}
	}
	for _, c := range []struct{ in, want string }{{"192.0.2.1", "192.0.2.1"}, {"::ffff:192.0.2.1", "192.0.2.1"}, {"2001:DB8::1", "2001:db8::1"}, {" 10.0.0.1 ", "10.0.0.1"}} {
		if got, err := buffer.ParseIP(c.in); err != nil || got != c.want {
			t.Errorf("ParseIP(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "1.2.3", "example.org", "1.2.3.4; rm -rf /", "fe80::1%eth0x<"} {
		if _, err := buffer.ParseIP(bad); err == nil {
			t.Errorf("ParseIP(%q) accepted", bad)
		}
	}
}

func TestClaimNeverOverwritesABatch(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	now := time.Unix(1795600000, 0)
	var ids []string
	for i := range 3 {
		if err := b.Append(rec("sshd", "192.0.2.1", float64(i+1))); err != nil {
			t.Fatal(err)
		}
		claimed, err := b.Claim(now) // the same clock reading every time
		if err != nil || len(claimed) != 1 {
			t.Fatal(claimed, err)
		}
		ids = append(ids, claimed[0].ID)
	}
	batches, _ := b.Batches()
	if len(batches) != 3 {
		t.Fatalf("batches %v from ids %v", batches, ids)
	}
}

func TestScanFileAtGivesOffsetsReadRecordAtReads(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	long := strings.Repeat("x", 300<<10) // longer than the reader's buffer
	for i, u := range []string{"a", long, "c"} {
		r := rec("sshd", "192.0.2.1", float64(i+1))
		r.User = u
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	type ref struct {
		off int64
		n   int
	}
	var refs []ref
	if _, err := buffer.ScanFileAt(b.PendingPath(), func(_ *buffer.Record, off int64, n int) error {
		refs = append(refs, ref{off, n})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(b.PendingPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, want := range []string{"a", long, "c"} {
		r, err := buffer.ReadRecordAt(f, refs[i].off, refs[i].n)
		if err != nil || r.User != want || r.Time != float64(i+1) {
			t.Fatalf("record %d at %+v: %v %v", i, refs[i], err, r)
		}
	}
}
