package report

import (
	"bytes"
	"cmp"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The builder's per-address data holds no pointers, so that the garbage
// collector has nothing to scan in it however many addresses an attack
// brings: addresses are fixed-size map keys to numbers, aggregates and
// their variable-length parts live in slabs indexed by number, and names
// are numbers into shared tables.

// slabChunk is the number of elements a slab allocates at once.
const slabChunk = 1 << 12

// slab hands out runs of n elements of T, by handle (0 is no run), from
// chunks allocated slabChunk elements (or one run) at a time: growing never
// copies what is held, so memory stays close to what is used. T must hold
// no pointers: its chunks are outside the Go heap (see chunks).
type slab[T any] struct {
	mem    *chunks
	chunks [][]T
	n      int   // elements per run
	per    int32 // runs per chunk
	runs   int32 // runs handed out
}

func newSlab[T any](mem *chunks, n int) slab[T] {
	if t := reflect.TypeFor[T](); hasPointers(t) {
		panic("report: slab of " + t.String() + ", which holds pointers") // the collector would not see them
	}
	return slab[T]{mem: mem, n: n, per: int32(max(1, slabChunk/n))}
}

// alloc returns the handle of a new run of zero elements.
func (s *slab[T]) alloc() int32 {
	if int(s.runs/s.per) == len(s.chunks) {
		s.chunks = append(s.chunks, chunk[T](s.mem, int(s.per)*s.n))
	}
	s.runs++
	return s.runs
}

// get returns run h (a handle from alloc).
func (s *slab[T]) get(h int32) []T {
	r := h - 1
	o := int(r%s.per) * s.n
	return s.chunks[r/s.per][o : o+s.n : o+s.n]
}

// at returns the one element of run h, for slabs of runs of one.
func (s *slab[T]) at(h int32) *T { return &s.get(h)[0] }

// hasPointers reports whether values of t hold pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}

// chunks is memory mapped for slabs outside the Go heap. The garbage
// collector paces itself on the heap it manages, letting it grow by a share
// of what is live before it collects: with the aggregates of a long attack
// on the heap, that share of them was the flush's peak memory spent on
// garbage. Mapped apart, the aggregates cost what they hold, and the heap
// is left with what is short-lived. The mappings are released with the
// Builder that holds them (runtime.AddCleanup).
type chunks struct{ maps [][]byte }

// mapped counts the bytes of chunks mapped and not yet released.
var mapped atomic.Int64

// chunk returns n zero elements of T, mapped apart; on the heap if mapping
// fails.
func chunk[T any](mem *chunks, n int) []T {
	size := n * int(unsafe.Sizeof(*new(T)))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]T, n)
	}
	mem.maps = append(mem.maps, b)
	mapped.Add(int64(len(b)))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func (mem *chunks) release() {
	for _, b := range mem.maps {
		if syscall.Munmap(b) == nil {
			mapped.Add(-int64(len(b)))
		}
	}
	mem.maps = nil
}

// addrIndex numbers addresses: IPv4 ones by their 4 bytes, IPv6 ones
// (IPv4-mapped included, which are written differently) by their 16, and
// anything else (a zone, a form that is not the canonical one, not an
// address at all) by its text, which is rare since the ban path stores
// canonical forms. The number of an address is a handle into a slab.
type addrIndex struct {
	v4    map[[4]byte]int32
	v6    map[[16]byte]int32
	other map[string]int32
}

func newAddrIndex() addrIndex {
	return addrIndex{v4: map[[4]byte]int32{}, v6: map[[16]byte]int32{}, other: map[string]int32{}}
}

// canonical returns ip's address when ip is exactly how netip writes it,
// with no zone.
func canonical(ip string) (netip.Addr, bool) {
	if a, ok := canonical4(ip); ok {
		return netip.AddrFrom4(a), true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	var buf [64]byte
	return a, string(a.AppendTo(buf[:0])) == ip
}

// canonical4 reads the dotted quad netip writes (no leading zeros), the
// common case, without the cost of parsing and writing it back.
func canonical4(ip string) (a [4]byte, ok bool) {
	n, i := 0, 0
	for n < 4 {
		v, start := 0, i
		for i < len(ip) && ip[i] >= '0' && ip[i] <= '9' && i-start < 3 {
			v = v*10 + int(ip[i]-'0')
			i++
		}
		if i == start || v > 255 || (ip[start] == '0' && i-start > 1) {
			return a, false
		}
		a[n] = byte(v)
		n++
		if n < 4 {
			if i >= len(ip) || ip[i] != '.' {
				return a, false
			}
			i++
		}
	}
	return a, i == len(ip)
}

// number returns the number of ip, which alloc gives it when it has none
// (added).
func (x *addrIndex) number(ip string, alloc func() int32) (h int32, added bool) {
	a, ok := canonical(ip)
	switch {
	case ok && a.Is4():
		return numberOf(x.v4, a.As4(), alloc)
	case ok:
		return numberOf(x.v6, a.As16(), alloc)
	}
	return numberOf(x.other, ip, alloc)
}

func numberOf[K comparable](m map[K]int32, k K, alloc func() int32) (int32, bool) {
	if h, ok := m[k]; ok {
		return h, false
	}
	h := alloc()
	m[k] = h
	return h, true
}

// each calls f with every address, its text ("" when it is canonical: its
// address's String) and its number.
func (x *addrIndex) each(f func(addr netip.Addr, text string, h int32)) {
	for k, h := range x.v4 {
		f(netip.AddrFrom4(k), "", h)
	}
	for k, h := range x.v6 {
		f(netip.AddrFrom16(k), "", h)
	}
	for ip, h := range x.other {
		a, _ := netip.ParseAddr(ip)
		f(a, ip, h)
	}
}

// lookup returns the number of the address each passed as addr and text,
// if it has one.
func (x *addrIndex) lookup(addr netip.Addr, text string) (int32, bool) {
	var h int32
	var ok bool
	switch {
	case text != "":
		h, ok = x.other[text]
	case addr.Is4():
		h, ok = x.v4[addr.As4()]
	case addr.IsValid():
		h, ok = x.v6[addr.As16()]
	}
	return h, ok
}

// addrText is the text of an address each passed.
func addrText(addr netip.Addr, text string) string {
	if text != "" || !addr.IsValid() {
		return text
	}
	return addr.String()
}

// walk is every address of an addrIndex in ascending order: IPv4 ones
// (IPv4-mapped IPv6 ones as their IPv4 address) first, then IPv6 ones,
// then texts that are no address. An address's ref is its number when it
// is in canonical form, else ^i for the i-th of extra. Eight bytes an IPv4
// address and 20 an IPv6 one, no pointer.
type walk struct {
	v4      []uint64 // IPv4 address<<32 | uint32(ref)
	v6      []ref6
	extra   []extraAddr // IPv4-mapped IPv6 addresses and forms not canonical: rare
	invalid []extraAddr // texts that are no address, by text
}

type ref6 struct {
	addr [16]byte
	ref  int32
}

type extraAddr struct {
	addr netip.Addr
	text string // "" for a canonical IPv4-mapped IPv6 address
	h    int32
}

// sorted returns the walk of x's addresses. With consume, it empties x as
// it goes and collects, so that the lists take the place of the maps
// rather than come on top of them: the peak of a flush under a long attack
// (two collections of a heap the collector has little to scan in).
func (x *addrIndex) sorted(consume bool) *walk {
	if consume {
		runtime.GC() // the garbage of reading the records: room for the IPv4 list
	}
	w := &walk{}
	// The rare forms first, in an order of their own, so that the walk is
	// the same on every run.
	for k, h := range x.v6 {
		if a := netip.AddrFrom16(k); a.Is4In6() {
			w.extra = append(w.extra, extraAddr{a, "", h})
		}
	}
	mapped := len(w.extra)
	for ip, h := range x.other {
		if a, err := netip.ParseAddr(ip); err == nil {
			w.extra = append(w.extra, extraAddr{a, ip, h})
		} else {
			w.invalid = append(w.invalid, extraAddr{a, ip, h})
		}
	}
	slices.SortFunc(w.extra, func(a, b extraAddr) int {
		return cmp.Or(a.addr.Unmap().Compare(b.addr.Unmap()), strings.Compare(a.text, b.text))
	})
	slices.SortFunc(w.invalid, func(a, b extraAddr) int { return strings.Compare(a.text, b.text) })
	extra4 := 0
	for _, e := range w.extra {
		if e.addr.Unmap().Is4() {
			extra4++
		}
	}
	// Each list allocated once; each map let go of once listed.
	w.v4 = make([]uint64, 0, len(x.v4)+extra4)
	for k, h := range x.v4 {
		w.v4 = append(w.v4, ref4(k, h))
	}
	if consume {
		x.v4 = nil
		runtime.GC() // its map: room for the IPv6 list
	}
	w.v6 = make([]ref6, 0, len(x.v6)-mapped+len(w.extra)-extra4)
	for k, h := range x.v6 {
		if !netip.AddrFrom16(k).Is4In6() {
			w.v6 = append(w.v6, ref6{k, h})
		}
	}
	for i, e := range w.extra {
		ref := ^int32(i)
		if a := e.addr.Unmap(); a.Is4() {
			w.v4 = append(w.v4, ref4(a.As4(), ref))
		} else {
			w.v6 = append(w.v6, ref6{a.As16(), ref})
		}
	}
	if consume {
		*x = addrIndex{}
	}
	// The canonical form of an address before its others (ref as
	// unsigned), which come in an order that does not change either.
	slices.Sort(w.v4)
	slices.SortFunc(w.v6, func(a, b ref6) int {
		return cmp.Or(bytes.Compare(a.addr[:], b.addr[:]), cmp.Compare(uint32(a.ref), uint32(b.ref)))
	})
	return w
}

// each calls f with every address in order, as addrIndex.each does.
func (w *walk) each(f func(addr netip.Addr, text string, h int32)) {
	for _, v := range w.v4 {
		if ref := int32(uint32(v)); ref > 0 {
			f(netip.AddrFrom4(key4(v)), "", ref)
		} else {
			e := &w.extra[^ref]
			f(e.addr, e.text, e.h)
		}
	}
	for i := range w.v6 {
		if r := &w.v6[i]; r.ref > 0 {
			f(netip.AddrFrom16(r.addr), "", r.ref)
		} else {
			e := &w.extra[^r.ref]
			f(e.addr, e.text, e.h)
		}
	}
	for _, e := range w.invalid {
		f(e.addr, e.text, e.h)
	}
}

// ref4 is the entry of walk.v4 for the IPv4 address k of ref.
func ref4(k [4]byte, ref int32) uint64 {
	return uint64(k[0])<<56 | uint64(k[1])<<48 | uint64(k[2])<<40 | uint64(k[3])<<32 | uint64(uint32(ref))
}

// key4 is the IPv4 address of the entry v of walk.v4.
func key4(v uint64) [4]byte {
	return [4]byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32)}
}

// keep keeps the addresses whose number is kept by keep, and drops the
// texts that are no address; it returns w.
func (w *walk) keep(keep func(h int32) bool) *walk {
	number := func(ref int32) int32 {
		if ref > 0 {
			return ref
		}
		return w.extra[^ref].h
	}
	w.v4 = slices.DeleteFunc(w.v4, func(v uint64) bool { return !keep(number(int32(uint32(v)))) })
	w.v6 = slices.DeleteFunc(w.v6, func(r ref6) bool { return !keep(number(r.ref)) })
	w.invalid = nil
	return w
}
