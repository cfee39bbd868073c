package netgroup

import (
	"container/heap"
	"net/netip"
	"slices"
)

// Sorted rolls up addresses that come in order: each network is complete
// when an address of another comes, so it keeps only the networks Top will
// return, not one entry per network seen. A flush of an attack spread over
// hundreds of thousands of networks then costs a few networks of memory
// rather than tens of megabytes. Make one with NewSorted; a Sorted is not
// safe for concurrent use.
type Sorted struct {
	v4Bits, v6Bits int
	top            int // networks kept; < 0: all

	open     entry    // the network being summed
	openMore []uint16 // its jails beyond the first 64
	opened   bool

	networks, addresses int
	kept                keptHeap // the best networks so far; the root is the one Top lists last

	jailSet
}

// kept is a complete network: its entry and its jails beyond the first 64.
type kept struct {
	e    entry
	more []uint16
}

// NewSorted returns a Sorted that groups IPv4 addresses by their first
// v4Bits bits and IPv6 addresses by their first v6Bits bits and keeps the
// top networks of them (all for top < 0). It panics when CheckBits refuses
// the bits: validate configured values with CheckBits first.
func NewSorted(v4Bits, v6Bits, top int) *Sorted {
	if err := CheckBits(v4Bits, v6Bits); err != nil {
		panic("netgroup.NewSorted: " + err.Error())
	}
	return &Sorted{v4Bits: v4Bits, v6Bits: v6Bits, top: top, jailSet: newJailSet()}
}

// entryOf returns the empty entry of a's network; a is valid and unmapped.
func (s *Sorted) entryOf(a netip.Addr) entry {
	if a.Is4() {
		a4 := a.As4()
		u := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
		u &= mask32(s.v4Bits)
		e := entry{is4: true}
		e.addr[0], e.addr[1], e.addr[2], e.addr[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		return e
	}
	return entry{addr: mask128(a.As16(), s.v6Bits)}
}

// Add counts bans bans of addr by each of jails. Addresses come in
// ascending order, IPv4 ones before IPv6 ones, an IPv4-mapped IPv6 address
// as its IPv4 address (or in any order that gives the addresses of each
// network one after the other, the networks in that order), each once: an
// address given again counts again. Add panics when addr's network comes
// before the one of the address before it. An invalid address is ignored,
// and so is a negative bans (taken as 0).
func (s *Sorted) Add(addr netip.Addr, jails []string, bans int) {
	if !addr.IsValid() {
		return
	}
	e := s.entryOf(addr.Unmap())
	switch c := s.order(&e); {
	case c < 0:
		panic("netgroup.Sorted.Add: " + addr.String() + " comes before the network of the address before it")
	case c > 0 || !s.opened:
		s.close()
		s.open, s.openMore, s.opened = e, nil, true
	}
	s.addresses++
	s.open.addresses++
	if bans > 0 {
		s.open.bans += uint64(bans)
	}
	for _, name := range jails {
		if j := s.jail(name); j < 64 {
			s.open.jails |= 1 << j
		} else if !slices.Contains(s.openMore, j) {
			s.openMore = append(s.openMore, j)
		}
	}
}

// order compares the network of e with the open one, in the order Add
// takes them.
func (s *Sorted) order(e *entry) int {
	if !s.opened {
		return 1
	}
	if e.is4 != s.open.is4 {
		if e.is4 {
			return -1
		}
		return 1
	}
	return slices.Compare(e.addr[:], s.open.addr[:])
}

// close adds the open network to the kept ones, when it is among the top.
func (s *Sorted) close() {
	if !s.opened {
		return
	}
	s.opened = false
	s.networks++
	k := kept{s.open, s.openMore}
	switch {
	case s.top < 0 || len(s.kept) < s.top:
		heap.Push(&s.kept, k)
	case s.top > 0 && compareEntries(&k.e, &s.kept[0].e) < 0:
		s.kept[0] = k
		heap.Fix(&s.kept, 0)
	}
}

// Len returns how many distinct networks have been seen.
func (s *Sorted) Len() int {
	if s.opened {
		return s.networks + 1
	}
	return s.networks
}

// Addresses returns how many addresses have been added.
func (s *Sorted) Addresses() int { return s.addresses }

// Top returns the top networks (as many as NewSorted was told), most bans
// first, then most addresses, then by prefix (IPv4 before IPv6), so that
// the order is the same on every run. Ask it once every address is added:
// it completes the last network.
func (s *Sorted) Top() []Network {
	s.close()
	all := slices.Clone(s.kept)
	slices.SortFunc(all, func(x, y kept) int { return compareEntries(&x.e, &y.e) })
	out := make([]Network, len(all))
	for i := range all {
		out[i] = s.export(&all[i].e, all[i].more, s.v4Bits, s.v6Bits)
	}
	return out
}

// keptHeap is a container/heap of kept networks whose root is the one
// that comes last in Top: the one a better network replaces.
type keptHeap []kept

func (h keptHeap) Len() int           { return len(h) }
func (h keptHeap) Less(i, j int) bool { return compareEntries(&h[j].e, &h[i].e) < 0 }
func (h keptHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keptHeap) Push(x any)        { *h = append(*h, x.(kept)) }
func (h *keptHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
