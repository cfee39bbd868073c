package report

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// canonical takes an address as the builder's key exactly when netip writes
// it back the same, zone-less.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.", "1.2.3.4 ", "1..2.3",
		"::1", "::ffff:1.2.3.4", "2001:DB8::1", "2001:db8::1", "fe80::1%eth0", "", "1.2.3.0004", "1234.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Zone() == "" && a.String() == s
		got, ok := canonical(s)
		if ok != want || ok && got != a {
			t.Fatalf("canonical(%q) = %v, %v; netip reads %v, %v", s, got, ok, a, err)
		}
	})
}

// A builder's slabs are mapped outside the Go heap: they are released when
// the builder is collected, or a process that builds digests again and
// again (a test suite, a long preview loop) would keep every one.
func TestBuilderMemoryIsReleased(t *testing.T) {
	before := mapped.Load()
	build := func() *Builder {
		b := NewBuilder(Options{})
		for i := range 20000 {
			b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String(), User: "root", Matches: []string{"x"}})
		}
		if d := b.Digest(); d.Totals.IPs != 20000 {
			t.Fatalf("totals %+v", d.Totals)
		}
		return b
	}
	builders := []*Builder{build(), build(), build()}
	if held := mapped.Load() - before; held < 3*20000*56 {
		t.Fatalf("%d bytes mapped for 3 builders of 20,000 addresses, want at least their offenders (%d)", held, 3*20000*56)
	}
	runtime.KeepAlive(builders)
	builders = nil
	for i := 0; mapped.Load() > before && i < 100; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if held := mapped.Load() - before; held > 0 {
		t.Errorf("%d bytes still mapped after the builders were collected", held)
	}
}
