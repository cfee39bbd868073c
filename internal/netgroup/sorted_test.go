package netgroup_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

// TestSortedIsGrouper: addresses given in order to a Sorted give the same
// networks, counts and top networks as the Grouper given them in any
// order, for any number of networks kept: ties, IPv4-mapped addresses,
// several networks of one address and jails beyond the first 64 included.
func TestSortedIsGrouper(t *testing.T) {
	var jails []string
	for i := range 70 {
		jails = append(jails, fmt.Sprintf("jail%02d", i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type ban struct {
		addr  netip.Addr
		jails []string
		bans  int
	}
	var bans []ban
	for i := range 3000 {
		var a netip.Addr
		switch i % 4 {
		case 0, 1: // a few hundred /24s, so that networks share their bans
			a = netip.AddrFrom4([4]byte{192, 0, byte(rng.IntN(300)), byte(i)})
		case 2:
			a = netip.AddrFrom16(netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(40)), byte(i)}).As16()) // IPv4-mapped
		default:
			var b [16]byte
			b[0], b[1], b[7], b[15] = 0x20, 0x01, byte(rng.IntN(200)), byte(i)
			a = netip.AddrFrom16(b)
		}
		bans = append(bans, ban{a, []string{jails[rng.IntN(len(jails))], jails[rng.IntN(3)]}, rng.IntN(4)})
	}
	bans = slices.CompactFunc(slices.SortedFunc(slices.Values(bans), func(x, y ban) int { return x.addr.Compare(y.addr) }),
		func(x, y ban) bool { return x.addr == y.addr })
	g := netgroup.New(24, 64)
	for _, i := range rng.Perm(len(bans)) {
		n := bans[i].bans // counted once, with the first jail
		for _, jail := range bans[i].jails {
			g.Add(bans[i].addr, jail, n)
			n = 0
		}
	}
	g.Add(netip.Addr{}, jails[0], 1) // ignored
	// The order Add takes: by address once IPv4-mapped ones are unmapped.
	slices.SortStableFunc(bans, func(x, y ban) int { return x.addr.Unmap().Compare(y.addr.Unmap()) })
	for _, top := range []int{-1, 0, 1, 5, 40, len(bans)} {
		s := netgroup.NewSorted(24, 64, top)
		for _, b := range bans {
			s.Add(b.addr, b.jails, b.bans)
		}
		s.Add(netip.Addr{}, jails[:1], 1) // ignored
		want := g.Top(top)
		if got := s.Top(); !reflect.DeepEqual(got, want) {
			t.Errorf("top %d: Sorted gives %d networks, first %+v; Grouper %d, first %+v", top, len(got), first(got), len(want), first(want))
		}
		if s.Len() != g.Len() || s.Addresses() != g.Addresses() {
			t.Errorf("top %d: Sorted counts %d addresses in %d networks, Grouper %d in %d", top, s.Addresses(), s.Len(), g.Addresses(), g.Len())
		}
	}
	if g.Len() < 400 || g.Addresses() != len(bans) {
		t.Fatalf("the test's addresses are %d in %d networks: too few to test with", g.Addresses(), g.Len())
	}
}

func first(n []netgroup.Network) any {
	if len(n) == 0 {
		return nil
	}
	return n[0]
}

// TestSortedOutOfOrder: an address of a network before the one of the
// address before it is a mistake of the caller, said at once rather than
// counted as a network of its own.
func TestSortedOutOfOrder(t *testing.T) {
	s := netgroup.NewSorted(24, 64, 5)
	s.Add(netip.MustParseAddr("192.0.2.9"), []string{"sshd"}, 1)
	s.Add(netip.MustParseAddr("192.0.2.1"), []string{"sshd"}, 1) // same network: any order
	s.Add(netip.MustParseAddr("2001:db8::1"), []string{"sshd"}, 1)
	defer func() {
		if recover() == nil {
			t.Error("Add of 198.51.100.1 after 2001:db8::1 did not panic")
		}
	}()
	s.Add(netip.MustParseAddr("198.51.100.1"), []string{"sshd"}, 1)
}
