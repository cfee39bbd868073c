package netgroup

import (
	"net/netip"
	"slices"
)

// The Grouper is the reference a Sorted is tested against: it takes the
// addresses in any order, each as often as it comes, and keeps every
// network it sees.

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
