package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/heldheap"
)

func addrs(ss ...string) func(func(netip.Addr) bool) {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return slices.Values(as)
}

var (
	t1 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	t2 = t1.Add(24 * time.Hour)
	t3 = t2.Add(24 * time.Hour)
)

// sample is three reports: 192.0.2.1 in all three, 2001:db8::1 in the
// last two, 198.51.100.7 in the first only.
func sample(t *testing.T) *History {
	t.Helper()
	h := &History{}
	steps := []struct {
		t     time.Time
		addrs []string
		jails []JailTotal
	}{
		{t1, []string{"192.0.2.1", "198.51.100.7"}, []JailTotal{{"sshd", 5, 2}}},
		{t2, []string{"192.0.2.1", "2001:db8::1", "192.0.2.1"}, []JailTotal{{"sshd", 3, 1}, {"nginx", 1, 1}}},
		{t3, []string{"::ffff:192.0.2.1", "2001:db8::1"}, []JailTotal{{"sshd", 2, 2}}},
	}
	for _, s := range steps {
		if err := h.Record(s.t, addrs(s.addrs...), s.jails); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestLookup(t *testing.T) {
	h := sample(t)
	tests := []struct {
		addr        string
		first, last time.Time
		count       int
		ok          bool
	}{
		{"192.0.2.1", t1, t3, 3, true},
		{"::ffff:192.0.2.1", t1, t3, 3, true},
		{"2001:db8::1", t2, t3, 2, true},
		{"198.51.100.7", t1, t1, 1, true},
		{"203.0.113.9", time.Time{}, time.Time{}, 0, false},
	}
	for _, tt := range tests {
		first, last, count, ok := h.Lookup(netip.MustParseAddr(tt.addr))
		if !first.Equal(tt.first) || !last.Equal(tt.last) || count != tt.count || ok != tt.ok {
			t.Errorf("Lookup(%s) = %v, %v, %d, %v; want %v, %v, %d, %v", tt.addr, first, last, count, ok, tt.first, tt.last, tt.count, tt.ok)
		}
	}
}

func TestPrevious(t *testing.T) {
	h := &History{}
	if _, ok := h.Previous(); ok {
		t.Fatal("Previous of an empty history: ok")
	}
	h = sample(t)
	r, ok := h.Previous()
	want := Report{Time: t3, Jails: []JailTotal{{"sshd", 2, 2}}}
	if !ok || !r.Time.Equal(want.Time) || !reflect.DeepEqual(r.Jails, want.Jails) {
		t.Errorf("Previous() = %v, %v; want %v", r, ok, want)
	}
	// Recording the same time again replaces the totals and counts no address twice.
	if err := h.Record(t3, addrs("2001:db8::1"), []JailTotal{{"b", 1, 1}, {"a", 1, 1}}); err != nil {
		t.Fatal(err)
	}
	r, _ = h.Previous()
	if !reflect.DeepEqual(r.Jails, []JailTotal{{"a", 1, 1}, {"b", 1, 1}}) || len(h.Reports()) != 3 {
		t.Errorf("after recording %v again: Previous().Jails = %v, %d reports; want a and b, 3 reports", t3, r.Jails, len(h.Reports()))
	}
	if _, _, count, _ := h.Lookup(netip.MustParseAddr("2001:db8::1")); count != 2 {
		t.Errorf("after recording %v again: count = %d, want 2", t3, count)
	}
}

func TestRecordOutOfRange(t *testing.T) {
	h := &History{}
	err := h.Record(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), addrs("192.0.2.1"), nil)
	if err == nil || !strings.Contains(err.Error(), "1969") {
		t.Errorf("Record(1969) = %v, want an error naming 1969", err)
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name              string
		now               time.Time
		maxAge            time.Duration
		maxAddrs          int
		dropAddrs, dropRp int
		left              []string
	}{
		{"no bounds", t3, 0, -1, 0, 0, []string{"192.0.2.1", "198.51.100.7", "2001:db8::1"}},
		{"by age", t3, 36 * time.Hour, -1, 1, 1, []string{"192.0.2.1", "2001:db8::1"}},
		{"by count: the one last reported longest ago", t3, 0, 2, 1, 0, []string{"192.0.2.1", "2001:db8::1"}},
		{"by count: lower address first among equals", t3, 0, 1, 2, 0, []string{"2001:db8::1"}},
		{"everything", t3.Add(time.Hour), 30 * time.Minute, -1, 3, 3, nil},
		{"a report exactly maxAge old stays", t3.Add(time.Hour), time.Hour, -1, 1, 2, []string{"192.0.2.1", "2001:db8::1"}},
		{"to none", t3, 0, 0, 3, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sample(t)
			da, dr := h.Prune(tt.now, tt.maxAge, tt.maxAddrs)
			if da != tt.dropAddrs || dr != tt.dropRp {
				t.Errorf("Prune dropped %d addresses, %d reports; want %d, %d", da, dr, tt.dropAddrs, tt.dropRp)
			}
			var left []string
			for _, a := range []string{"192.0.2.1", "198.51.100.7", "2001:db8::1"} {
				if _, _, _, ok := h.Lookup(netip.MustParseAddr(a)); ok {
					left = append(left, a)
				}
			}
			if !slices.Equal(left, tt.left) || h.Len() != len(tt.left) {
				t.Errorf("left %v (Len %d), want %v", left, h.Len(), tt.left)
			}
		})
	}
}

func TestPruneMaxReports(t *testing.T) {
	h := &History{}
	for i := range MaxReports + 5 {
		h.reports = append(h.reports, Report{Time: t1.Add(time.Duration(i) * time.Minute)})
	}
	if _, dr := h.Prune(t3, 0, -1); dr != 5 || len(h.Reports()) != MaxReports || !h.Reports()[0].Time.Equal(t1.Add(5*time.Minute)) {
		t.Errorf("Prune dropped %d reports, %d left starting %v; want 5, %d, the oldest gone", dr, len(h.Reports()), h.Reports()[0].Time, MaxReports)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.bin")
	h := sample(t)
	for _, fsync := range []bool{false, true} {
		if err := h.Save(path, fsync); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.addr4, h.addr4) || !reflect.DeepEqual(got.addr6, h.addr6) || len(got.reports) != len(h.reports) {
		t.Fatalf("Load after Save: got %+v, want %+v", got, h)
	}
	for i := range h.reports {
		if !got.reports[i].Time.Equal(h.reports[i].Time) || !reflect.DeepEqual(got.reports[i].Jails, h.reports[i].Jails) {
			t.Errorf("report %d: got %v, want %v", i, got.reports[i], h.reports[i])
		}
	}
	// Same bytes for the same history, and no temporary file left behind.
	first, _ := os.ReadFile(path)
	if err := got.Save(path, false); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Error("saving the loaded history gave other bytes")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the folder holds %d files after Save, want only %s", len(ents), path)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestLoadNoHistory(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := sample(t).Save(good, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 0x40
	// Damaged inside but with a checksum that matches: the decoder's own
	// bounds catch it.
	sealed := func(body ...byte) []byte {
		b := append([]byte(magic+"\x01"), body...)
		return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli()))
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		is   error
		says string
	}{
		{"missing", filepath.Join(dir, "none"), fs.ErrNotExist, "no such file"},
		{"empty", write("empty", nil), ErrCorrupt, "no history header"},
		{"other file", write("other", []byte("ssh-rsa AAAA...\n")), ErrCorrupt, "no history header"},
		{"one byte changed", write("flipped", flipped), ErrCorrupt, "checksum"},
		{"cut short", write("short", data[:len(data)-9]), ErrCorrupt, "checksum"},
		{"more addresses than the file can hold", write("count", sealed(0, 2, 4, 192, 0, 2, 1, 1, 0, 1)), ErrCorrupt, "bad address count"},
		{"an unknown address family", write("family", sealed(0, 1, 5, 192, 0, 2, 1, 1, 0, 1)), ErrCorrupt, "bad address family"},
		{"a later version", write("version", append([]byte(magic+"\x03"), 0, 0, 0, 0, 0)), ErrCorrupt, "version 3"},
		{"symbolic link", link, nil, "symbolic link"},
		{"a folder", dir, nil, "folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Load(tt.path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.says) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("error %q: want it to name %s, say %q and wrap %v", err, tt.path, tt.says, tt.is)
			}
			if h == nil || h.Len() != 0 || len(h.Reports()) != 0 {
				t.Fatalf("history %+v, want an empty one", h)
			}
			if err := h.Record(t1, addrs("192.0.2.1"), nil); err != nil || h.Len() != 1 {
				t.Errorf("the empty history is not usable: %v", err)
			}
		})
	}
}

// TestVersion1FileReads: a file written before reports were recorded per
// channel still reads, its reports for no channel in particular, which
// every channel then compares with until it has one of its own; saved
// again, it is version 2 and keeps what it held.
func TestVersion1FileReads(t *testing.T) {
	// "f2bnhist" 1; one report at 1795600000 (varint 80 dd 9a d8 06) with
	// jail sshd, 3 bans, 2 addresses; one address, 192.0.2.1, first and last
	// reported then, once.
	b := []byte(magic + "\x01")
	b = append(b, 1, 0x80, 0xdd, 0x9a, 0xd8, 0x06, 1, 4, 's', 's', 'h', 'd', 3, 2)
	b = append(b, 1, 4, 192, 0, 2, 1, 0x80, 0xdd, 0x9a, 0xd8, 0x06, 0, 1)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli()))
	path := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1795600000, 0)
	want := Report{Time: at, Jails: []JailTotal{{"sshd", 3, 2}}}
	if !reflect.DeepEqual(h.Reports(), []Report{want}) {
		t.Fatalf("reports %+v, want %+v", h.Reports(), want)
	}
	if first, _, n, ok := h.Lookup(netip.MustParseAddr("192.0.2.1")); !ok || n != 1 || !first.Equal(at) {
		t.Errorf("address: %v %d %v", first, n, ok)
	}
	if r, ok := h.PreviousFor("mail"); !ok || !reflect.DeepEqual(r, want) {
		t.Errorf("PreviousFor(mail) = %+v, %v; want the report of version 1", r, ok)
	}
	later := at.Add(time.Hour)
	if err := h.RecordFor(later, "chat", addrs("192.0.2.1"), []JailTotal{{"sshd", 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := h.PreviousFor("mail"); !r.Time.Equal(at) {
		t.Errorf("PreviousFor(mail) is another channel's report: %+v", r)
	}
	if r, _ := h.PreviousFor("chat"); !r.Time.Equal(later) || r.Channel != "chat" {
		t.Errorf("PreviousFor(chat) = %+v", r)
	}
	if err := h.Save(path, false); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); data[len(magic)] != version {
		t.Errorf("saved as version %d, want %d", data[len(magic)], version)
	}
	again, err := Load(path)
	if err != nil || !reflect.DeepEqual(again.Reports(), h.Reports()) {
		t.Errorf("saved and loaded (%v): %+v, want %+v", err, again.Reports(), h.Reports())
	}
}

// TestReportsPerChannel: two channels sent reports at the same time keep a
// report each; recording one of them again replaces its totals only.
func TestReportsPerChannel(t *testing.T) {
	var h History
	at := time.Unix(1795600000, 0)
	for _, c := range []struct {
		channel string
		jails   []JailTotal
	}{{"ssh-only", []JailTotal{{"sshd", 5, 3}}}, {"all", []JailTotal{{"nginx", 2, 2}, {"sshd", 5, 3}}}, {"ssh-only", []JailTotal{{"sshd", 6, 3}}}} {
		if err := h.RecordFor(at, c.channel, addrs("192.0.2.1"), c.jails); err != nil {
			t.Fatal(err)
		}
	}
	want := []Report{{Time: at, Channel: "all", Jails: []JailTotal{{"nginx", 2, 2}, {"sshd", 5, 3}}}, {Time: at, Channel: "ssh-only", Jails: []JailTotal{{"sshd", 6, 3}}}}
	if !reflect.DeepEqual(h.Reports(), want) {
		t.Errorf("reports %+v, want %+v", h.Reports(), want)
	}
	if _, _, n, _ := h.Lookup(netip.MustParseAddr("192.0.2.1")); n != 1 {
		t.Errorf("the address counts %d reports, want 1: one report time", n)
	}
	if _, ok := h.PreviousFor("new"); ok {
		t.Error("a channel never recorded has another channel's report as its previous one")
	}
}

func TestSaveError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "history.bin")
	if err := sample(t).Save(path, false); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Save into a missing folder = %v, want an error naming %s", err, path)
	}
}

// big is a history of n addresses (two thirds IPv4) seen in 90 daily
// reports of four jails.
func big(b *testing.B, n int) *History {
	h := &History{}
	jails := []JailTotal{{"nginx-http-auth", 900, 800}, {"postfix", 90, 80}, {"recidive", 9, 8}, {"sshd", 9000, 8000}}
	per := n / 90
	for d := range 90 {
		t := t1.Add(time.Duration(d) * 24 * time.Hour)
		seq := func(yield func(netip.Addr) bool) {
			for i := d * per; i < (d+1)*per+n/10 && i < n; i++ { // some overlap from day to day
				var a netip.Addr
				if i%3 == 2 {
					a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 6: byte(i >> 16), 7: byte(i >> 8), 15: byte(i)})
				} else {
					a = netip.AddrFrom4([4]byte{byte(10 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
				}
				if !yield(a) {
					return
				}
			}
		}
		if err := h.Record(t, seq, jails); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// BenchmarkSaveLoad saves and loads a history of 1,000,000 addresses and
// reports the file's size.
func BenchmarkSaveLoad(b *testing.B) {
	h := big(b, 1_000_000)
	if h.Len() != 1_000_000 {
		b.Fatalf("Len() = %d", h.Len())
	}
	path := filepath.Join(b.TempDir(), "history.bin")
	b.Run("Save", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Save(path, false); err != nil {
				b.Fatal(err)
			}
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Size())/1e6, "file-MB")
	})
	b.Run("Load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := Load(path)
			if err != nil || got.Len() != h.Len() {
				b.Fatalf("Load: %v, %d addresses", err, got.Len())
			}
		}
	})
}

func TestRecordSkipsInvalid(t *testing.T) {
	h := &History{}
	if err := h.Record(t1, slices.Values([]netip.Addr{{}, netip.MustParseAddr("192.0.2.1")}), nil); err != nil {
		t.Fatal(err)
	}
	if h.Len() != 1 {
		t.Errorf("Len() = %d, want 1: the invalid address is skipped", h.Len())
	}
}

// BenchmarkRecordPrune records 90 daily reports that add up to 1,000,000
// addresses, then prunes to 500,000, and reports the heap the History
// holds.
func BenchmarkRecordPrune(b *testing.B) {
	var held uint64
	b.ReportAllocs()
	for b.Loop() {
		var h *History
		held = heldheap.Measure(b, func() any { h = big(b, 1_000_000); return h })
		if da, _ := h.Prune(t3.AddDate(0, 0, 90), 0, 500_000); da != 500_000 {
			b.Fatalf("Prune dropped %d addresses", da)
		}
	}
	b.ReportMetric(float64(held)/1e6, "MB-held")
}

// TestFileSize: an address costs at most 32 bytes of file (29 here: an IPv6 one
// seen in reports years apart, thousands of times), so 1,000,000 of them
// stay far under 64 MB.
func TestFileSize(t *testing.T) {
	const n = 100_000
	h := &History{}
	for i := range n { // in order of address, as a History keeps them
		k := key6{0x20, 0x01, 0x0d, 0xb8, 4: byte(i >> 16), 5: byte(i >> 8), 6: byte(i), 15: 1}
		h.addr6 = append(h.addr6, row[key6]{k, seen{first: 1 << 31, last: 1<<31 + 3<<25, count: 1 << 20}})
	}
	path := filepath.Join(t.TempDir(), "history.bin")
	if err := h.Save(path, false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if per := float64(st.Size()) / n; per > 32 {
		t.Errorf("%d bytes for %d addresses: %.1f per address, want at most 32", st.Size(), n, per)
	}
}
