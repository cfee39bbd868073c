// Package netgroup rolls addresses up into the networks they belong to, so
// that a report can say "203.0.113.0/24: 41 addresses, 300 bans, sshd and
// nginx" instead of listing 41 neighbours one by one. IPv4 addresses are
// grouped by a /24 and IPv6 addresses by a /64 unless told otherwise.
//
// A Sorted takes the addresses in order and keeps only the networks it is
// to list, each one small fixed-size entry without pointers, however many
// networks it sees: a flush under an attack spread over hundreds of
// thousands of networks stays small and cheap for the garbage collector.
package netgroup

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Default prefix lengths: the network of a typical hosting customer or
// home connection.
const (
	DefaultV4Bits = 24
	DefaultV6Bits = 64
)

// Network is one network of a rollup: its prefix, how many distinct
// addresses of it were seen, their bans, and the jails that banned them
// (sorted). Jail names come from the configuration, but callers should
// still escape them as data.
type Network struct {
	Prefix    netip.Prefix
	Addresses int
	Bans      int
	Jails     []string
}

// jailSet numbers jail names, in the order they come.
type jailSet struct {
	jails   []string // jail index → name
	jailIdx map[string]uint16
}

func newJailSet() jailSet { return jailSet{jailIdx: make(map[string]uint16)} }

// entry is one network: 40 bytes and no pointer, so that tens of thousands
// of networks cost the garbage collector nothing to scan. The first 64
// jails are bits of jails; a network banned by a jail beyond those keeps
// their indexes beside it (rare: most hosts run a handful of jails).
type entry struct {
	addr      [16]byte // the masked address (IPv4 in the first 4 bytes)
	is4       bool
	addresses uint32
	bans      uint64
	jails     uint64
}

// CheckBits says whether v4Bits and v6Bits are prefix lengths NewSorted
// accepts: 0 to 32 and 0 to 128.
func CheckBits(v4Bits, v6Bits int) error {
	if v4Bits < 0 || v4Bits > 32 {
		return fmt.Errorf("IPv4 prefix length %d: want 0 to 32", v4Bits)
	}
	if v6Bits < 0 || v6Bits > 128 {
		return fmt.Errorf("IPv6 prefix length %d: want 0 to 128", v6Bits)
	}
	return nil
}

// jail returns the index of name, adding it when new.
func (g *jailSet) jail(name string) uint16 {
	if j, ok := g.jailIdx[name]; ok {
		return j
	}
	j := uint16(len(g.jails))
	g.jails = append(g.jails, name)
	g.jailIdx[name] = j
	return j
}

// compareEntries orders networks as Top lists them: more bans first, then
// more addresses, then by prefix (IPv4 before IPv6), so the order is the
// same on every run.
func compareEntries(x, y *entry) int {
	if c := cmp.Compare(y.bans, x.bans); c != 0 {
		return c
	}
	if c := cmp.Compare(y.addresses, x.addresses); c != 0 {
		return c
	}
	if x.is4 != y.is4 {
		if x.is4 {
			return -1
		}
		return 1
	}
	return slices.Compare(x.addr[:], y.addr[:])
}

// export returns network e, whose jails beyond the first 64 are more.
func (js *jailSet) export(e *entry, more []uint16, v4Bits, v6Bits int) Network {
	var p netip.Prefix
	if e.is4 {
		p = netip.PrefixFrom(netip.AddrFrom4([4]byte(e.addr[:4])), v4Bits)
	} else {
		p = netip.PrefixFrom(netip.AddrFrom16(e.addr), v6Bits)
	}
	var jails []string
	for j := range min(len(js.jails), 64) {
		if e.jails&(1<<j) != 0 {
			jails = append(jails, js.jails[j])
		}
	}
	for _, j := range more {
		jails = append(jails, js.jails[j])
	}
	slices.Sort(jails)
	return Network{Prefix: p, Addresses: int(e.addresses), Bans: int(e.bans), Jails: jails}
}

func mask32(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

func mask128(a [16]byte, bits int) [16]byte {
	for i := range a {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			a[i] &= ^byte(0) << (8 - bits)
			bits = 0
		default:
			a[i] = 0
		}
	}
	return a
}
