package history

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// The file: magic, then unsigned varints throughout:
//
//	"f2bnhist" version(2)
//	reports: count, then per report: unix seconds, channel name length,
//	  channel name, jail count, then per jail: name length, name, bans,
//	  addresses
//	addresses: count, then per address, sorted (IPv4 first):
//	  family (4 or 6), 4 or 16 bytes, first (unix seconds), last-first, count
//	CRC-32C of everything before it, 4 bytes little-endian
//
// Version 1, written before reports were recorded per channel, is the same
// without the channel name; Load reads it, its reports for no channel in
// particular (Report.Channel "").
//
// About 12 bytes per IPv4 address and 24 per IPv6 address, at most 16
// and 32: 1,000,000 addresses take 12 to 32 MB.
const (
	magic   = "f2bnhist"
	version = 2
	// version1 has no channel per report.
	version1 = 1
	// maxFile bounds what Load reads: far above what the bounds of Prune
	// let Save write.
	maxFile = 512 << 20
)

// minAddrBytes is the fewest bytes an address takes in the file: family,
// IPv4 address and three one-byte varints. It bounds the address count a
// file can claim, and so what Load allocates for it.
const minAddrBytes = 1 + 4 + 3

// castagnoli is the CRC-32C table, made when a history is first read or
// written: building it at start-up cost every command (--help, ban) a
// fifth of a millisecond.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// ErrCorrupt is wrapped by Load's error when the file is not a history
// file or is damaged.
var ErrCorrupt = errors.New("not a history file, or damaged")

// Load reads the history saved at path, without following a symbolic link.
// When the file is missing, unreadable or corrupt, it returns an empty
// History that is ready to use along with an error naming the file: a
// missing file's error wraps fs.ErrNotExist (the first report has none, so
// say nothing), a damaged one's wraps ErrCorrupt.
func Load(path string) (*History, error) {
	f, err := fsguard.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return &History{}, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &History{}, fmt.Errorf("read history %s: %w", path, err)
	}
	if st.Size() > maxFile {
		return &History{}, fmt.Errorf("read history %s: larger than %d MB: %w", path, maxFile>>20, ErrCorrupt)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return &History{}, fmt.Errorf("read history %s: %w", path, err)
	}
	h, err := decode(b)
	if err != nil {
		return &History{}, fmt.Errorf("read history %s: %w (it starts again empty)", path, err)
	}
	return h, nil
}

// decoder reads unsigned varints from a byte slice, remembering the first
// error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) uint(what string, max uint64) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > max {
		d.fail("bad " + what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string, n int) []byte {
	if len(d.b) < n {
		d.fail("truncated " + what)
		return make([]byte, n)
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func decode(b []byte) (*History, error) {
	if len(b) < len(magic)+1+4 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: no history header", ErrCorrupt)
	}
	v := b[len(magic)]
	if v != version && v != version1 {
		return nil, fmt.Errorf("%w: version %d, this f2b-notify reads %d and %d", ErrCorrupt, v, version1, version)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli()) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	d := &decoder{b: body[len(magic)+1:]}
	const maxU32 = 1<<32 - 1
	n := d.uint("report count", MaxReports)
	h := &History{reports: make([]Report, 0, n)}
	for range n {
		t := time.Unix(int64(d.uint("report time", maxU32)), 0)
		var channel string
		if v != version1 {
			channel = string(d.bytes("channel name", int(d.uint("channel name length", 1<<10))))
		}
		nj := d.uint("jail count", 1<<16)
		r := Report{Time: t, Channel: channel, Jails: make([]JailTotal, 0, min(nj, 64))}
		for range nj {
			name := string(d.bytes("jail name", int(d.uint("jail name length", 1<<10))))
			bans := int(d.uint("bans", 1<<62))
			addrs := int(d.uint("addresses", 1<<62))
			r.Jails = append(r.Jails, JailTotal{Jail: name, Bans: bans, Addresses: addrs})
		}
		h.reports = append(h.reports, r)
	}
	na := d.uint("address count", uint64(len(d.b)/minAddrBytes))
	// Save writes the IPv4 addresses first: room for as many as the file
	// claims, trimmed to what it holds.
	h.addr4 = make(table[key4], 0, na)
	for range na {
		fam := d.bytes("address", 1)[0]
		switch fam {
		case 4:
			k := key4(d.bytes("address", 4))
			h.addr4 = append(h.addr4, row[key4]{k, readSeen(d)})
		case 6:
			k := key6(d.bytes("address", 16))
			h.addr6 = append(h.addr6, row[key6]{k, readSeen(d)})
		default:
			d.fail("bad address family")
		}
		if d.err != nil {
			break
		}
	}
	if cap(h.addr4) > len(h.addr4)+len(h.addr4)/4 {
		h.addr4 = slices.Clone(h.addr4)
	}
	h.addr4, h.addr6 = h.addr4.sortRows(), h.addr6.sortRows()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return h, nil
}

func readSeen(d *decoder) seen {
	const maxU32 = 1<<32 - 1
	first := d.uint("first report", maxU32)
	span := d.uint("last report", maxU32-first)
	count := d.uint("report count", maxU32)
	return seen{first: uint32(first), last: uint32(first + span), count: uint32(count)}
}

// Save writes the history to path atomically: into a temporary file in
// the same folder (mode 0600), renamed over path, so that a crash leaves
// either the old file or the new one. With fsync, the file is synced
// before the rename and the folder after it, so that the new history
// survives a power cut too. The file is the same bytes for the same
// History.
func (h *History) Save(path string, fsync bool) error {
	err := fsguard.WriteAtomic(path, 0o600, fsync, func(f io.Writer) error {
		crc := crc32.New(castagnoli())
		w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<16)
		h.encode(w)
		if err := w.Flush(); err != nil {
			return err
		}
		_, err := f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	return nil
}

// encode writes the file but its checksum; w keeps the first error, which
// its Flush returns.
func (h *History) encode(w *bufio.Writer) {
	var buf [binary.MaxVarintLen64]byte
	put := func(v uint64) { w.Write(binary.AppendUvarint(buf[:0], v)) }
	w.WriteString(magic)
	w.WriteByte(version)
	put(uint64(len(h.reports)))
	for _, r := range h.reports {
		put(uint64(r.Time.Unix()))
		put(uint64(len(r.Channel)))
		w.WriteString(r.Channel)
		put(uint64(len(r.Jails)))
		for _, j := range r.Jails {
			put(uint64(len(j.Jail)))
			w.WriteString(j.Jail)
			put(uint64(max(j.Bans, 0)))
			put(uint64(max(j.Addresses, 0)))
		}
	}
	put(uint64(h.Len()))
	// One scratch buffer for every address: slicing a loop variable
	// would move each one to the heap.
	rec := make([]byte, 0, 1+16+3*binary.MaxVarintLen32)
	putAddr := func(fam byte, a []byte, s seen) {
		rec = append(append(rec[:0], fam), a...)
		rec = binary.AppendUvarint(rec, uint64(s.first))
		rec = binary.AppendUvarint(rec, uint64(s.last-s.first))
		rec = binary.AppendUvarint(rec, uint64(s.count))
		w.Write(rec)
	}
	// By index: slicing a loop variable would move each one to the heap.
	for i := range h.addr4 {
		putAddr(4, h.addr4[i].k[:], h.addr4[i].s)
	}
	for i := range h.addr6 {
		putAddr(6, h.addr6[i].k[:], h.addr6[i].s)
	}
}
