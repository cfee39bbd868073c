package netgroup

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/heldheap"
)

type add struct {
	addr string
	jail string
	bans int
}

func TestTop(t *testing.T) {
	tests := []struct {
		name           string
		v4Bits, v6Bits int
		adds           []add
		n              int
		want           []Network
	}{
		{
			name:   "IPv4 by /24, distinct addresses counted once",
			v4Bits: 24, v6Bits: 64,
			adds: []add{
				{"192.0.2.1", "sshd", 1},
				{"192.0.2.1", "sshd", 2},
				{"192.0.2.200", "nginx", 1},
				{"198.51.100.7", "sshd", 1},
			},
			n: -1,
			want: []Network{
				{netip.MustParsePrefix("192.0.2.0/24"), 2, 4, []string{"nginx", "sshd"}},
				{netip.MustParsePrefix("198.51.100.0/24"), 1, 1, []string{"sshd"}},
			},
		},
		{
			name:   "IPv6 by /64, IPv4-mapped counts as IPv4, zone ignored",
			v4Bits: 24, v6Bits: 64,
			adds: []add{
				{"2001:db8:1:2::1", "sshd", 3},
				{"2001:db8:1:2:ffff::9", "sshd", 1},
				{"2001:db8:1:3::1", "sshd", 1},
				{"::ffff:192.0.2.9", "sshd", 1},
				{"fe80::1%eth0", "sshd", 1},
				{"fe80::1", "sshd", 1},
			},
			n: -1,
			want: []Network{
				{netip.MustParsePrefix("2001:db8:1:2::/64"), 2, 4, []string{"sshd"}},
				{netip.MustParsePrefix("fe80::/64"), 1, 2, []string{"sshd"}},
				{netip.MustParsePrefix("192.0.2.0/24"), 1, 1, []string{"sshd"}},
				{netip.MustParsePrefix("2001:db8:1:3::/64"), 1, 1, []string{"sshd"}},
			},
		},
		{
			name:   "ties: more addresses first, then IPv4 before IPv6, then lower prefix",
			v4Bits: 16, v6Bits: 48,
			adds: []add{
				{"2001:db8::1", "a", 2},
				{"203.0.113.1", "a", 2},
				{"198.51.100.1", "a", 1},
				{"198.51.7.1", "a", 1},
				{"10.0.0.1", "a", 2},
			},
			n: 3,
			want: []Network{
				{netip.MustParsePrefix("198.51.0.0/16"), 2, 2, []string{"a"}},
				{netip.MustParsePrefix("10.0.0.0/16"), 1, 2, []string{"a"}},
				{netip.MustParsePrefix("203.0.0.0/16"), 1, 2, []string{"a"}},
			},
		},
		{
			name:   "whole-address prefixes and /0",
			v4Bits: 32, v6Bits: 0,
			adds: []add{
				{"192.0.2.1", "a", 1},
				{"192.0.2.2", "a", 1},
				{"2001:db8::1", "a", 1},
				{"2001:db9::1", "b", 1},
			},
			n: -1,
			want: []Network{
				{netip.MustParsePrefix("::/0"), 2, 2, []string{"a", "b"}},
				{netip.MustParsePrefix("192.0.2.1/32"), 1, 1, []string{"a"}},
				{netip.MustParsePrefix("192.0.2.2/32"), 1, 1, []string{"a"}},
			},
		},
		{
			name:   "invalid address and negative bans",
			v4Bits: 24, v6Bits: 64,
			adds: []add{{"", "a", 5}, {"192.0.2.1", "a", -3}},
			n:    10,
			want: []Network{{netip.MustParsePrefix("192.0.2.0/24"), 1, 0, []string{"a"}}},
		},
		{
			name: "n of 0", v4Bits: 24, v6Bits: 64,
			adds: []add{{"192.0.2.1", "a", 1}},
			n:    0, want: []Network{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(tt.v4Bits, tt.v6Bits)
			for _, a := range tt.adds {
				var addr netip.Addr
				if a.addr != "" {
					addr = netip.MustParseAddr(a.addr)
				}
				g.Add(addr, a.jail, a.bans)
			}
			got := g.Top(tt.n)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Top(%d):\n got  %v\n want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestManyJails(t *testing.T) {
	g := New(24, 64)
	var want []string
	for j := range 100 {
		name := fmt.Sprintf("jail%03d", j)
		want = append(want, name)
		g.Add(netip.MustParseAddr("192.0.2.1"), name, 1)
		g.Add(netip.MustParseAddr("192.0.2.1"), name, 1) // again: listed once
	}
	top := g.Top(1)
	if len(top) != 1 || !reflect.DeepEqual(top[0].Jails, want) || top[0].Bans != 200 || top[0].Addresses != 1 {
		t.Fatalf("Top(1) = %+v, want one network with 100 jails, 200 bans, 1 address", top)
	}
	if g.Len() != 1 || g.Addresses() != 1 {
		t.Errorf("Len, Addresses = %d, %d; want 1, 1", g.Len(), g.Addresses())
	}
}

func TestCheckBits(t *testing.T) {
	for _, tt := range []struct {
		v4, v6 int
		ok     bool
	}{{24, 64, true}, {0, 0, true}, {32, 128, true}, {33, 64, false}, {-1, 64, false}, {24, 129, false}} {
		if err := CheckBits(tt.v4, tt.v6); (err == nil) != tt.ok {
			t.Errorf("CheckBits(%d, %d) = %v, want ok=%v", tt.v4, tt.v6, err, tt.ok)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New(33, 64) did not panic")
		}
	}()
	New(33, 64)
}

// BenchmarkSorted rolls up 600,000 distinct addresses (two thirds IPv4,
// one third IPv6, in a few thousand networks, as a flush under a wide
// attack sees them), given in order as the digest gives them, and takes
// the top 10, and reports the heap the Sorted holds.
func BenchmarkSorted(b *testing.B) {
	const distinct = 600_000
	addrs := make([]netip.Addr, distinct)
	for i := range addrs {
		if i%3 == 2 {
			var a [16]byte
			a[0], a[1], a[6], a[7], a[15], a[14] = 0x20, 0x01, byte(i>>16), byte(i>>8), byte(i), byte(i>>4)
			addrs[i] = netip.AddrFrom16(a)
		} else {
			addrs[i] = netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	jails := [][]string{{"sshd"}, {"nginx-http-auth"}, {"postfix", "recidive"}}
	var held uint64
	b.ReportAllocs()
	for b.Loop() {
		var s *Sorted
		held = heldheap.Measure(b, func() any {
			s = NewSorted(DefaultV4Bits, DefaultV6Bits, 10)
			for i, a := range addrs {
				s.Add(a, jails[i%len(jails)], 1+i%3)
			}
			return s
		})
		if top := s.Top(); s.Addresses() != len(addrs) || len(top) != 10 {
			b.Fatalf("Addresses() = %d, want %d", s.Addresses(), len(addrs))
		}
	}
	b.ReportMetric(float64(held)/1e6, "MB-held")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(addrs)), "ns/add")
}
