package history

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// table is what is known of a set of addresses, sorted by address: a
// slice rather than a map, which costs a map's free slots and headroom on
// top of its entries (about 40% of a history of a million addresses, held
// through the whole of a flush), and which Save writes in order as it is.
type table[K key[K]] []row[K]

// row is one address of a table.
type row[K any] struct {
	k K
	s seen
}

// key is an address as a table keeps it.
type key[K any] interface {
	comparable
	compare(K) int
}

// key4 is an IPv4 address, key6 an IPv6 one.
type (
	key4 [4]byte
	key6 [16]byte
)

func (k key4) compare(o key4) int {
	return cmp.Compare(binary.BigEndian.Uint32(k[:]), binary.BigEndian.Uint32(o[:]))
}

func (k key6) compare(o key6) int { return bytes.Compare(k[:], o[:]) }

// find returns the index of k in t, or where it would go.
func (t table[K]) find(k K) (int, bool) {
	return slices.BinarySearchFunc(t, k, func(r row[K], k K) int { return r.k.compare(k) })
}

// lookup returns what t knows of k.
func (t table[K]) lookup(k K) (seen, bool) {
	if i, ok := t.find(k); ok {
		return t[i].s, true
	}
	return seen{}, false
}

// visit records that k was in the report at ts: in place when t has k,
// else in *added, which merge adds to t.
func (t table[K]) visit(k K, ts uint32, added *[]row[K]) {
	if i, ok := t.find(k); ok {
		t[i].s = visit(t[i].s, ts)
		return
	}
	*added = append(*added, row[K]{k, seen{first: ts, last: ts, count: 1}})
}

// merge adds to t the rows of added, which t does not have (each once,
// however often it is in added), and returns t.
func (t table[K]) merge(added []row[K]) table[K] {
	if len(added) == 0 {
		return t
	}
	slices.SortFunc(added, func(a, b row[K]) int { return a.k.compare(b.k) })
	added = slices.CompactFunc(added, func(a, b row[K]) bool { return a.k == b.k })
	if len(t) == 0 {
		return added // no copy: a first report is as large as the history
	}
	n := len(t)
	t = slices.Grow(t, len(added))[:n+len(added)]
	// From the end, so that nothing is overwritten before it is moved.
	i, j := n-1, len(added)-1
	for w := len(t) - 1; j >= 0; w-- {
		if i >= 0 && t[i].k.compare(added[j].k) > 0 {
			t[w] = t[i]
			i--
		} else {
			t[w] = added[j]
			j--
		}
	}
	return t
}

// sortRows sorts t (rows read from a file in another order) and keeps the
// last of the rows of one address, as a map the rows were stored in would.
func (t table[K]) sortRows() table[K] {
	sorted := true
	for i := 1; i < len(t) && sorted; i++ {
		sorted = t[i-1].k.compare(t[i].k) < 0
	}
	if sorted {
		return t
	}
	slices.SortStableFunc(t, func(a, b row[K]) int { return a.k.compare(b.k) })
	out := t[:0]
	for i, r := range t {
		if i+1 < len(t) && t[i+1].k == r.k {
			continue // a later row of the same address wins
		}
		out = append(out, r)
	}
	return out
}
