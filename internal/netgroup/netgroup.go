// Package netgroup rolls addresses up into the networks they belong to, so
// that a report can say "203.0.113.0/24: 41 addresses, 300 bans, sshd and
// nginx" instead of listing 41 neighbours one by one. IPv4 addresses are
// grouped by a /24 and IPv6 addresses by a /64 unless told otherwise.
//
// A Grouper keeps no pointer per address: the distinct addresses it has
// seen are map keys of 4 (IPv4) or 16 (IPv6) bytes, and each network is one
// small fixed-size entry, so that a flush that sees 600,000 distinct
// addresses stays small and cheap for the garbage collector. A Sorted
// takes the addresses in order instead and keeps only the networks it is
// to list, however many it sees.
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

// Grouper collects addresses into networks. The zero value is not usable:
// make one with New. A Grouper is not safe for concurrent use.
type Grouper struct {
	v4Bits, v6Bits int

	addr4 map[uint32]struct{}
	addr6 map[[16]byte]struct{}
	net4  map[uint32]int32   // masked address → index in nets
	net6  map[[16]byte]int32 // masked address → index in nets
	nets  []entry
	more  map[int32][]uint16 // by index in nets: jails beyond the first 64

	jailSet
}

// jailSet numbers jail names, in the order they come.
type jailSet struct {
	jails   []string // jail index → name
	jailIdx map[string]uint16
}

func newJailSet() jailSet { return jailSet{jailIdx: make(map[string]uint16)} }

// entry is one network: 40 bytes and no pointer, so that tens of thousands
// of networks cost the garbage collector nothing to scan. The first 64
// jails are bits of jails; a network banned by a jail beyond those lists
// its index in Grouper.more (rare: most hosts run a handful of jails).
type entry struct {
	addr      [16]byte // the masked address (IPv4 in the first 4 bytes)
	is4       bool
	addresses uint32
	bans      uint64
	jails     uint64
}

// CheckBits says whether v4Bits and v6Bits are prefix lengths New accepts:
// 0 to 32 and 0 to 128.
func CheckBits(v4Bits, v6Bits int) error {
	if v4Bits < 0 || v4Bits > 32 {
		return fmt.Errorf("IPv4 prefix length %d: want 0 to 32", v4Bits)
	}
	if v6Bits < 0 || v6Bits > 128 {
		return fmt.Errorf("IPv6 prefix length %d: want 0 to 128", v6Bits)
	}
	return nil
}

// New returns a Grouper that groups IPv4 addresses by their first v4Bits
// bits and IPv6 addresses by their first v6Bits bits. It panics when
// CheckBits refuses them: validate configured values with CheckBits first.
func New(v4Bits, v6Bits int) *Grouper {
	if err := CheckBits(v4Bits, v6Bits); err != nil {
		panic("netgroup.New: " + err.Error())
	}
	return &Grouper{
		v4Bits:  v4Bits,
		v6Bits:  v6Bits,
		addr4:   make(map[uint32]struct{}),
		addr6:   make(map[[16]byte]struct{}),
		net4:    make(map[uint32]int32),
		net6:    make(map[[16]byte]int32),
		jailSet: newJailSet(),
	}
}

// Add counts bans bans of addr by jail. The same address may be added any
// number of times (once per record, say): it counts once among its
// network's addresses, and its bans add up. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) counts as the IPv4 address; a zone is ignored. An
// invalid address is ignored, and so is a negative bans (taken as 0).
func (g *Grouper) Add(addr netip.Addr, jail string, bans int) {
	if i, ok := g.network(addr); ok {
		g.count(i, jail, bans)
	}
}

// network returns the index in nets of addr's network, added when new, and
// counts addr among its addresses unless it was before. ok is false for an
// invalid address.
func (g *Grouper) network(addr netip.Addr) (i int32, ok bool) {
	if !addr.IsValid() {
		return 0, false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		a4 := addr.As4()
		u := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
		key := u & mask32(g.v4Bits)
		if i, ok = g.net4[key]; !ok {
			i = int32(len(g.nets))
			e := entry{is4: true}
			e.addr[0], e.addr[1], e.addr[2], e.addr[3] = byte(key>>24), byte(key>>16), byte(key>>8), byte(key)
			g.nets = append(g.nets, e)
			g.net4[key] = i
		}
		if _, seen := g.addr4[u]; !seen {
			g.addr4[u] = struct{}{}
			g.nets[i].addresses++
		}
		return i, true
	}
	a16 := addr.As16()
	key := mask128(a16, g.v6Bits)
	if i, ok = g.net6[key]; !ok {
		i = int32(len(g.nets))
		g.nets = append(g.nets, entry{addr: key})
		g.net6[key] = i
	}
	if _, seen := g.addr6[a16]; !seen {
		g.addr6[a16] = struct{}{}
		g.nets[i].addresses++
	}
	return i, true
}

// count adds bans of jail to network i.
func (g *Grouper) count(i int32, jail string, bans int) {
	e := &g.nets[i]
	if bans > 0 {
		e.bans += uint64(bans)
	}
	j := g.jail(jail)
	if j < 64 {
		e.jails |= 1 << j
	} else if !slices.Contains(g.more[i], j) {
		if g.more == nil {
			g.more = map[int32][]uint16{}
		}
		g.more[i] = append(g.more[i], j)
	}
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

// Len returns how many distinct networks have been seen.
func (g *Grouper) Len() int {
	return len(g.nets)
}

// Addresses returns how many distinct addresses have been seen.
func (g *Grouper) Addresses() int { return len(g.addr4) + len(g.addr6) }

// Top returns the n networks with the most bans, most first; n < 0 means
// all of them. Ties go to the network with more addresses, then to the
// lower prefix (IPv4 before IPv6), so the order is the same on every run.
func (g *Grouper) Top(n int) []Network {
	idx := make([]int32, len(g.nets))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return compareEntries(&g.nets[a], &g.nets[b]) })
	if n >= 0 && n < len(idx) {
		idx = idx[:n]
	}
	out := make([]Network, len(idx))
	for k, i := range idx {
		out[k] = g.export(&g.nets[i], g.more[i], g.v4Bits, g.v6Bits)
	}
	return out
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
