package history

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRecordInAnyOrder: addresses recorded in any order, some more than
// once in a report, some in many reports, IPv4-mapped ones among them, are
// known as a map of every address would know them, before and after a
// Save and Load, and Prune drops the ones last reported longest ago, the
// lower address first among equals.
func TestRecordInAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type known struct {
		first, last time.Time
		count       int
	}
	want := map[netip.Addr]*known{}
	h := &History{}
	var all []netip.Addr
	for i := range 600 {
		if i%3 == 0 {
			all = append(all, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 7: byte(i >> 8), 15: byte(i)}))
		} else {
			all = append(all, netip.AddrFrom4([4]byte{192, byte(i % 7), byte(i >> 8), byte(i)}))
		}
	}
	for r := range 20 {
		at := t1.Add(time.Duration(r) * time.Hour)
		var addrs []netip.Addr
		for range 120 {
			a := all[rng.IntN(len(all))]
			addrs = append(addrs, a)
			if rng.IntN(4) == 0 {
				addrs = append(addrs, netip.AddrFrom16(a.As16())) // the same, IPv4-mapped or again
			}
		}
		seenNow := map[netip.Addr]bool{}
		for _, a := range addrs {
			a = a.Unmap()
			if seenNow[a] {
				continue
			}
			seenNow[a] = true
			if k := want[a]; k != nil {
				k.last, k.count = at, k.count+1
			} else {
				want[a] = &known{at, at, 1}
			}
		}
		if err := h.Record(at, slices.Values(addrs), nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, h *History) {
		t.Helper()
		if h.Len() != len(want) {
			t.Errorf("%s: %d addresses known, want %d", what, h.Len(), len(want))
		}
		for _, a := range all {
			first, last, n, ok := h.Lookup(a)
			k := want[a]
			if ok != (k != nil) || ok && (!first.Equal(k.first) || !last.Equal(k.last) || n != k.count) {
				t.Fatalf("%s: Lookup(%v) = %v, %v, %d, %v; want %+v", what, a, first, last, n, ok, k)
			}
		}
	}
	check("recorded", h)
	path := filepath.Join(t.TempDir(), "history")
	if err := h.Save(path, false); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	check("loaded", loaded)

	// Prune to 100: the reference keeps the 100 last reported latest,
	// ties going to the higher addresses.
	order := slices.Collect(func(yield func(netip.Addr) bool) {
		for a := range want {
			yield(a)
		}
	})
	slices.SortFunc(order, func(a, b netip.Addr) int {
		if c := want[a].last.Compare(want[b].last); c != 0 {
			return c
		}
		return a.Compare(b)
	})
	if da, _ := h.Prune(t3, 0, 100); da != len(want)-100 {
		t.Fatalf("Prune dropped %d addresses, want %d", da, len(want)-100)
	}
	for _, a := range order[:len(order)-100] {
		delete(want, a)
	}
	check("pruned", h)
}

// TestLoadUnsorted: a file whose addresses are out of order, one of them
// twice, reads as the rows read into a map would: the later row wins.
func TestLoadUnsorted(t *testing.T) {
	h := &History{addr4: table[key4]{
		{key4{198, 51, 100, 7}, seen{first: 10, last: 20, count: 2}},
		{key4{192, 0, 2, 1}, seen{first: 10, last: 10, count: 1}},
		{key4{198, 51, 100, 7}, seen{first: 30, last: 40, count: 5}},
	}}
	path := filepath.Join(t.TempDir(), "history")
	if err := h.Save(path, false); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, last, n, ok := got.Lookup(netip.MustParseAddr("198.51.100.7")); !ok || last.Unix() != 40 || n != 5 || got.Len() != 2 {
		t.Errorf("198.51.100.7: last %v, %d reports, %v, of %d addresses; want the later row, 40 and 5, of 2", last, n, ok, got.Len())
	}
	if _, _, _, ok := got.Lookup(netip.MustParseAddr("192.0.2.1")); !ok {
		t.Error("192.0.2.1 is not found")
	}
}
