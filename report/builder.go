package report

import (
	"cmp"
	"container/heap"
	"hash/maphash"
	"maps"
	"math"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/chart"
	"github.com/f2b-notify/f2b-notify/internal/history"
)

// Options shape a digest.
type Options struct {
	Host            string
	Generated       time.Time // zero: time.Now()
	MaxUsers        int       // user names kept per offender; 0 means 5
	MaxMatches      int       // log lines kept per offender; 0 means 3
	MaxOffenders    int       // offender rows in the digest, the worst first; 0 means all
	IncludeRestored bool      // report bans replayed at restart as new bans
	// Files are the open buffer files records added with AddRef come from
	// (see buffer.OpenScan): the builder keeps log lines as references into
	// them and reads back only the ones the digest shows. The caller keeps
	// them open until Digest returns, so that a batch a flush renames or
	// deletes meanwhile still reads.
	Files []*os.File
	// Paths name the same files. A file whose entry in Files is nil is
	// opened again by its path when the digest reads its lines back, a few
	// at a time: a caller with thousands of files keeps only some of them
	// open. A file that is gone by then has its lines read as unreadable.
	Paths []string

	// NetV4Bits and NetV6Bits are the prefix lengths addresses are rolled
	// up into networks by (both 0: /24 and /64); TopNetworks is how many
	// networks, providers and countries the digest lists (0: 5, -1: all).
	NetV4Bits, NetV6Bits, TopNetworks int
	// Geo, when set, tells each address's provider and country.
	Geo Locator
	// History, when set, tells which addresses earlier reports had, and
	// what the previous report counted. The digest then keeps every banned
	// address (8 bytes an IPv4 one, 20 an IPv6 one) for Digest.Record.
	History *history.History
	// Warnings are notes on what the report could not tell (a database
	// missing, a history unreadable), shown with its other notes.
	Warnings []string
}

// LineRef locates a record's line in Options.Files[File].
type LineRef struct {
	File int32
	Len  int32
	Off  int64
}

// trackUsers bounds the distinct user names counted per offender beyond
// those kept.
const trackUsers = 16

// Builder aggregates records into a Digest. Its memory grows with the number
// of distinct addresses, not with the number of records: per address it
// keeps counts, at most MaxUsers names, MaxMatches log lines and a few hashes,
// none of it holding a pointer (see store.go).
type Builder struct {
	opt       Options
	mem       *chunks   // where the slabs are, released with the Builder or by Finish
	finished  bool      // by Finish: using the builder again panics
	banned    addrIndex // offenders by address
	unbanned  addrIndex // unbans by address
	offenders slab[offender]
	unbans    slab[unban]
	jailList  slab[jailSeen]       // an address's jails after its first, linked
	userSlots slab[uint32]         // runs of MaxUsers user names (number+1; 0: free)
	more      map[int32]*moreUsers // by offender: counts of further user names, for the few that try many
	matches   slab[match]          // by offender: rings of MaxMatches log lines
	jails     map[string]*JailStat
	jailIDs   map[string]int32 // jail names by number+1 into jailNames
	jailNames []string
	userIDs   map[string]uint32 // user names, which repeat a lot, by number
	userNames []string
	userBytes int      // bytes of userNames
	texts     []string // log lines of records added without a reference
	seed      maphash.Seed
	totals    Totals
	notes     Notes
	strays    map[string]int // records by the configuration that could not be read (Record.Config)
	from, to  float64        // event times, epoch seconds
	minutes   banTimes       // bans per jail and minute, for the chart and the sparkline
}

// maxStrays bounds the configuration files a digest names for its strays;
// records naming others are counted together.
const maxStrays = 16

// jailSeen is a jail an address was banned or unbanned in: the first is in
// the address's record, the others in Builder.jailList, linked by next.
type jailSeen struct {
	last float64 // time of the last ban seen, to drop fail2ban's retries
	name int32   // number+1 in Builder.jailNames; 0: none
	next int32   // handle of the next in Builder.jailList; 0: none
}

// offender is what the builder keeps per banned address: 56 bytes, its
// ring of log lines (the run of Builder.matches of the same handle) and its
// user names, whatever the number of its records.
//
// Its size is what a flush's memory grows with (a host under a long attack
// has hundreds of thousands of them): the rare offenders that try many user
// names get the count of the others on the side.
type offender struct {
	first, last float64
	bantime     int64
	jail        jailSeen
	bans        int32
	failures    int32
	users       int32  // handle in Builder.userSlots: the first MaxUsers distinct names; 0 until one comes
	seen        uint32 // lines seen in all; the ring holds the last of them, the next goes at seen % MaxMatches
}

// moreUsers counts an offender's distinct user names beyond the ones kept.
type moreUsers struct {
	hashes   [trackUsers]uint32 // hashes of further distinct names
	n        int32              // hashes held
	overflow int32              // distinct names beyond those too
}

func (b *Builder) moreUsers(h int32) int {
	m := b.more[h]
	if m == nil {
		return 0
	}
	return int(m.n + m.overflow)
}

// match is a kept log line: line idx of the record at off, len bytes long,
// in the buffer file file; or, when file is -1, the text Builder.texts[off].
// The offset and the line's index share one word (no buffer file reaches
// 2^48 bytes), so that a match takes 16 bytes with room for the tens of
// thousands of batches a channel down for a month may have.
type match struct {
	pos  uint64 // off<<16 | idx
	len  int32
	file int32
}

func newMatch(file int32, off int64, n int32, idx int) match {
	return match{pos: uint64(off)<<16 | uint64(uint16(idx)), len: n, file: file}
}

func (m match) off() int64 { return int64(m.pos >> 16) }
func (m match) idx() int   { return int(m.pos & 0xffff) }

type unban struct {
	last  float64
	jail  jailSeen
	count int64
}

// NewBuilder returns an empty builder.
func NewBuilder(opt Options) *Builder {
	if opt.MaxUsers <= 0 {
		opt.MaxUsers = 5
	}
	if opt.MaxMatches <= 0 {
		opt.MaxMatches = 3
	}
	mem := &chunks{}
	b := &Builder{
		opt:       opt,
		banned:    newAddrIndex(),
		unbanned:  newAddrIndex(),
		offenders: newSlab[offender](mem, 1),
		unbans:    newSlab[unban](mem, 1),
		jailList:  newSlab[jailSeen](mem, 1),
		userSlots: newSlab[uint32](mem, opt.MaxUsers),
		more:      map[int32]*moreUsers{},
		matches:   newSlab[match](mem, opt.MaxMatches),
		jails:     map[string]*JailStat{},
		jailIDs:   map[string]int32{},
		userIDs:   map[string]uint32{},
		seed:      maphash.MakeSeed(),
		minutes:   banTimes{},
		from:      math.Inf(1),
		to:        math.Inf(-1),
	}
	runtime.AddCleanup(b, (*chunks).release, mem)
	b.mem = mem
	return b
}

// AddStats counts what a scan read: batches, records and damaged lines.
func (b *Builder) AddStats(st buffer.ScanStats, batches int) {
	b.notes.Batches += batches
	b.notes.Records += st.Records
	b.notes.TornLines += st.Torn
}

// Add folds one record into the digest, keeping its log lines' text: for
// records that are already in memory (samples, tests); a flush uses AddRef.
func (b *Builder) Add(r *buffer.Record) { b.add(r, nil) }

// AddRef folds one record read from Options.Files into the digest, keeping
// its log lines by reference: memory then grows with distinct addresses,
// not with the length of their log lines.
func (b *Builder) AddRef(r *buffer.Record, ref LineRef) { b.add(r, &ref) }

func (b *Builder) add(r *buffer.Record, ref *LineRef) {
	b.check()
	if r.Config != "" {
		b.addStray(r.Config)
	}
	switch r.Action {
	case buffer.ActionBan:
		// fail2ban's time: the ban's last failure.
		t := r.Time
		if t <= 0 {
			t = float64(r.At)
		}
		b.addBan(r, t, ref)
	case buffer.ActionUnban:
		// fail2ban gives an unban the time of the ban's last failure; the
		// unban happened when it was recorded.
		t := float64(r.At)
		if t <= 0 {
			t = r.Time
		}
		b.addUnban(r, t)
	}
}

func (b *Builder) addStray(config string) {
	if b.strays == nil {
		b.strays = map[string]int{}
	}
	if _, ok := b.strays[config]; !ok && len(b.strays) >= maxStrays {
		config = ""
	}
	b.strays[config]++
}

// jailID numbers a jail name (number+1 into jailNames), so that a hundred
// thousand offenders share one copy of "sshd".
func (b *Builder) jailID(name string) int32 {
	id, ok := b.jailIDs[name]
	if !ok {
		b.jailNames = append(b.jailNames, name)
		id = int32(len(b.jailNames))
		b.jailIDs[name] = id
	}
	return id
}

func (b *Builder) span(t float64) {
	b.from = min(b.from, t)
	b.to = max(b.to, t)
}

func (b *Builder) jail(name string) *JailStat {
	j := b.jails[name]
	if j == nil {
		j = &JailStat{Name: name}
		b.jails[name] = j
	}
	return j
}

// seenJail records a ban or unban of a jail at t and reports whether it is a
// repeat of the last one: fail2ban runs a timed-out command again, with the
// same time.
func (b *Builder) seenJail(first *jailSeen, jail string, t float64) (repeat bool) {
	id := b.jailID(jail)
	if first.name == 0 {
		*first = jailSeen{name: id, last: t}
		return false
	}
	for e := first; ; e = b.jailList.at(e.next) {
		if e.name == id {
			if t > 0 && e.last == t {
				return true
			}
			e.last = t
			return false
		}
		if e.next == 0 {
			e.next = b.jailList.alloc()
			*b.jailList.at(e.next) = jailSeen{name: id, last: t}
			return false
		}
	}
}

// eachJail calls f with the name of every jail from first on.
func (b *Builder) eachJail(first jailSeen, f func(name string)) {
	if first.name == 0 {
		return
	}
	for e := &first; ; e = b.jailList.at(e.next) {
		f(b.jailNames[e.name-1])
		if e.next == 0 {
			return
		}
	}
}

func (b *Builder) addBan(r *buffer.Record, t float64, line *LineRef) {
	if r.Restored && !b.opt.IncludeRestored {
		b.totals.Restored++
		return
	}
	h, added := b.banned.number(r.IP, b.newOffender)
	o := b.offenders.at(h)
	if added {
		o.first, o.last = t, t
	}
	if b.seenJail(&o.jail, r.Jail, r.Time) {
		b.totals.Duplicate++
		return
	}
	b.span(t)
	b.minutes.add(b.jailID(r.Jail), t)
	o.bans++
	o.failures += int32(r.Failures)
	o.first = min(o.first, t)
	if t >= o.last {
		o.last = t
		o.bantime = r.Bantime
	}
	if r.User != "" {
		b.addUser(o, h, r.User)
	}
	if line != nil && r.Matches == nil {
		// Lines counted, not decoded: keep where to read them back.
		for i := range min(r.Lines, 1<<16) {
			b.addMatch(o, h, newMatch(line.File, line.Off, line.Len, i))
		}
	}
	for i, m := range r.Matches {
		if m == "" {
			continue
		}
		if line != nil {
			b.addMatch(o, h, newMatch(line.File, line.Off, line.Len, i))
			continue
		}
		b.texts = append(b.texts, keep(m, MaxLineLen))
		b.addMatch(o, h, newMatch(-1, int64(len(b.texts)-1), 0, i))
	}
	j := b.jail(r.Jail)
	j.Bans++
	j.Failures += r.Failures
	b.totals.Bans++
	b.totals.Failures += r.Failures
}

// maxUserNames bounds the table of distinct user names; names beyond it are
// only counted.
const maxUserNames = 1 << 20

func (b *Builder) addUser(o *offender, h int32, u string) {
	// Names are told apart by what a report can show of them.
	full := u
	u = u[:headLen(u, MaxUserLen+1)]
	id, known := b.userIDs[u]
	var users []uint32 // the kept names' numbers+1, then zeros
	if o.users != 0 {
		users = b.userSlots.get(o.users)
	}
	n := 0
	for n < len(users) && users[n] != 0 {
		if known && users[n] == id+1 {
			return
		}
		n++
	}
	if n < b.opt.MaxUsers && (known || len(b.userNames) < maxUserNames && b.userBytes+len(u) <= maxUserBytes) {
		if !known {
			if len(u) < len(full) {
				u = strings.Clone(u) // not the whole long name
			}
			id = uint32(len(b.userNames))
			b.userNames = append(b.userNames, u)
			b.userIDs[u] = id
			b.userBytes += len(u)
		}
		if o.users == 0 {
			o.users = b.userSlots.alloc()
			users = b.userSlots.get(o.users)
		}
		users[n] = id + 1
		return
	}
	m := b.more[h]
	if m == nil {
		m = &moreUsers{}
		b.more[h] = m
	}
	hash := uint32(maphash.String(b.seed, u))
	if slices.Contains(m.hashes[:m.n], hash) {
		return
	}
	if m.n < trackUsers {
		m.hashes[m.n] = hash
		m.n++
		return
	}
	m.overflow++
}

func (b *Builder) addMatch(o *offender, h int32, m match) {
	ring := b.matches.get(h)
	ring[o.seen%uint32(len(ring))] = m
	o.seen++
}

// newOffender allocates an offender and its ring of log lines, of the same
// handle.
func (b *Builder) newOffender() int32 {
	b.matches.alloc()
	return b.offenders.alloc()
}

func (b *Builder) addUnban(r *buffer.Record, t float64) {
	h, _ := b.unbanned.number(r.IP, b.unbans.alloc)
	u := b.unbans.at(h)
	if b.seenJail(&u.jail, r.Jail, r.Time) {
		b.totals.Duplicate++
		return
	}
	b.span(t)
	u.count++
	u.last = max(u.last, t)
	b.jail(r.Jail).Unbans++
	b.totals.Unbans++
}

// Digest returns the aggregate, sorted, with at most MaxOffenders offender
// rows (the rest counted in Notes.MoreOffenders). Untrusted text is
// neutralised here, once per string shown. The builder can go on adding
// after.
func (b *Builder) Digest() *Digest { return b.digest(false) }

// Finish is Digest for a builder done with: it gives back the builder's
// memory while it builds the digest, its index of addresses once they are
// sorted and its per-address data once the rows are read, rather than when
// the collector finds the builder unused, after the report is rendered.
// Under a long attack that is most of a flush's memory. Adding to the
// builder or asking for a digest after Finish panics.
func (b *Builder) Finish() *Digest { return b.digest(true) }

// check panics when the builder is finished.
func (b *Builder) check() {
	if b.finished {
		panic("report: Builder used after Finish")
	}
}

// digest is Digest, and Finish when final.
func (b *Builder) digest(final bool) *Digest {
	b.check()
	d := &Digest{
		Host:      Neutralise(b.opt.Host),
		Generated: b.opt.Generated,
		Totals:    b.totals,
		Notes:     b.notes,
	}
	if d.Generated.IsZero() {
		d.Generated = time.Now()
	}
	for _, w := range b.opt.Warnings {
		w, _ = shown(w, MaxWarningLen)
		d.Notes.Warnings = append(d.Notes.Warnings, w)
	}
	g := b.newGlance(d.Generated)
	for _, c := range slices.Sorted(maps.Keys(b.strays)) {
		d.Notes.Strays = append(d.Notes.Strays, Stray{Config: Neutralise(c), Records: b.strays[c]})
	}
	if b.from <= b.to {
		d.From, d.To = unix(b.from), unix(b.to)
	}

	// The worst offenders first. With MaxOffenders, only that many rows are
	// ever held (the worst seen so far, in a heap): a flush of a long attack
	// has far more offenders than its report shows.
	top := &rankHeap{}
	keep := b.opt.MaxOffenders
	jailIPs := map[string]int{}
	countJail := func(name string) { jailIPs[name]++ }
	// In order, for the rollup of networks; the same order is what the
	// history is given, without a copy, when there is one.
	walk := b.banned.sorted(final)
	walk.each(func(addr netip.Addr, text string, h int32) {
		o := b.offenders.at(h)
		if o.bans == 0 {
			return
		}
		d.Totals.IPs++
		g.add(d, addr, text, o)
		b.eachJail(o.jail, countJail)
		if isIPv6(addr) {
			d.Totals.IPv6++
		}
		r := ranked{addr, text, o, h}
		switch {
		case keep <= 0:
			*top = append(*top, r) // every row: sorted below
		case len(*top) < keep:
			heap.Push(top, r)
		case r.before((*top)[0]):
			(*top)[0] = r
			heap.Fix(top, 0)
		}
	})
	if b.opt.History != nil {
		d.addrs = walk.keep(func(h int32) bool { return b.offenders.at(h).bans > 0 })
	}
	all := []ranked(*top)
	slices.SortFunc(all, ranked.compare)
	d.Notes.MoreOffenders += d.Totals.IPs - len(all)
	lines := &lineReader{files: b.opt.Files, paths: b.opt.Paths, texts: b.texts, users: b.userNames}
	d.Offenders = make([]Offender, len(all))
	for i, r := range all {
		d.Offenders[i] = b.export(r.o, r.h, r.ip(), isIPv6(r.addr), lines)
		g.exportGlance(&d.Offenders[i], r.addr, r.text, r.o)
	}
	g.finish(d)
	d.chart = banChart{times: b.minutes, jails: b.jailNames}
	tl := d.Timeline(nil)
	if tl != nil {
		d.Sparkline = chart.Sparkline(tl.Totals())
	}
	d.StandsOut = g.standsOut(tl)
	lines.close()
	d.Notes.CountCuts(d.Offenders)

	for name, j := range b.jails {
		js := *j
		js.Name = Neutralise(name)
		js.IPs = jailIPs[name]
		d.Jails = append(d.Jails, js)
	}
	slices.SortFunc(d.Jails, func(a, b JailStat) int {
		return cmp.Or(cmp.Compare(b.Bans, a.Bans), cmp.Compare(a.Name, b.Name))
	})
	d.Totals.Jails = len(d.Jails)

	var unbans []rankedUnban
	b.unbanned.each(func(addr netip.Addr, text string, h int32) {
		if u := b.unbans.at(h); u.count > 0 {
			unbans = append(unbans, rankedUnban{addr, text, u})
		}
	})
	slices.SortFunc(unbans, func(x, y rankedUnban) int {
		if c := cmp.Or(cmp.Compare(x.u.last, y.u.last), x.addr.Compare(y.addr)); c != 0 {
			return c
		}
		return cmp.Compare(addrText(x.addr, x.text), addrText(y.addr, y.text))
	})
	for _, u := range unbans {
		d.Unbans = append(d.Unbans, Unban{IP: Neutralise(addrText(u.addr, u.text)), Jails: b.jailNamesOf(u.u.jail), Count: int(u.u.count), Last: unix(u.u.last)})
	}
	runtime.KeepAlive(b) // its slabs, which ranked and unbans point into
	if final {
		b.mem.release()
		*b = Builder{finished: true}
	}
	return d
}

// ranked is an offender being ranked for the digest's rows: its address,
// and its text when that is not the address's canonical form.
type ranked struct {
	addr netip.Addr
	text string
	o    *offender
	h    int32 // o's handle
}

func (r ranked) ip() string { return addrText(r.addr, r.text) }

// compare orders offenders as the report lists them: more bans first, then
// more failures, then by address.
func (r ranked) compare(q ranked) int {
	if c := cmp.Or(cmp.Compare(q.o.bans, r.o.bans), cmp.Compare(q.o.failures, r.o.failures), r.addr.Compare(q.addr)); c != 0 {
		return c
	}
	return cmp.Compare(r.ip(), q.ip()) // the same address written two ways
}

// rankedUnban is an unbanned address being sorted for the digest.
type rankedUnban struct {
	addr netip.Addr
	text string
	u    *unban
}

// before reports whether r comes before q in the report.
func (r ranked) before(q ranked) bool { return r.compare(q) < 0 }

// rankHeap is a container/heap whose root is the kept offender that comes
// last in the report: the one a worse newcomer replaces.
type rankHeap []ranked

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return h[j].before(h[i]) }
func (h rankHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)        { *h = append(*h, x.(ranked)) }
func (h *rankHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// export turns the internal offender into the row a template sees.
func (b *Builder) export(o *offender, h int32, ip string, ipv6 bool, lines *lineReader) Offender {
	off := Offender{
		IP:        Neutralise(ip),
		IPv6:      ipv6,
		Jails:     b.jailNamesOf(o.jail),
		Bans:      int(o.bans),
		Failures:  int(o.failures),
		FirstSeen: unix(o.first),
		LastSeen:  unix(o.last),
		Bantime:   o.bantime,
	}
	ring := b.matches.get(h)
	ring = ring[:min(int(o.seen), len(ring))]
	off.MoreUsers = b.moreUsers(h)
	off.MoreMatches = int(o.seen) - len(ring)
	var users []uint32
	if o.users != 0 {
		users = b.userSlots.get(o.users)
		if n := slices.Index(users, 0); n >= 0 {
			users = users[:n]
		}
	}
	// Each name and line cut to its length, all of them to the offender's
	// share: the names first, then the newest lines.
	budget := MaxOffenderText
	var leftUsers, leftLines int
	off.Users, off.CutUsers, leftUsers = fill(len(users), func(i int) string { return lines.users[users[i]-1] }, MaxUserLen, &budget)
	off.Matches, off.CutMatches, leftLines = fill(len(ring), func(i int) string {
		return lines.text(ring[(int(o.seen)+len(ring)-1-i)%len(ring)]) // the ring's newest line first
	}, MaxLineLen, &budget)
	slices.Reverse(off.Matches) // oldest kept line first
	off.MoreUsers += leftUsers
	off.MoreMatches += leftLines
	off.Capped = leftUsers+leftLines > 0
	return off
}

// fill returns the n fields field(0), field(1), ..., each as shown (cut to
// max characters), while they fit in budget characters, which it lowers;
// and how many of them were cut, and how many did not fit.
func fill(n int, field func(int) string, max int, budget *int) (out []string, cut, left int) {
	for i := range n {
		s, c := shown(field(i), max)
		k := utf8.RuneCountInString(s)
		if k > *budget {
			return out, cut, n - i
		}
		*budget -= k
		out = append(out, s)
		if c {
			cut++
		}
	}
	return out, cut, 0
}

// isIPv6 reports whether addr is an IPv6 address, not an IPv4 one written
// in IPv6 form.
func isIPv6(addr netip.Addr) bool { return addr.Is6() && !addr.Is4In6() }

// jailNamesOf returns the names of the jails from first on, neutralised and
// sorted.
func (b *Builder) jailNamesOf(first jailSeen) []string {
	out := []string{}
	b.eachJail(first, func(name string) { out = append(out, Neutralise(name)) })
	slices.Sort(out)
	return out
}

func unix(sec float64) time.Time {
	s, frac := math.Modf(sec)
	return time.Unix(int64(s), int64(frac*1e9))
}

// lineReader reads kept log lines back from the buffer files.
type lineReader struct {
	files []*os.File
	paths []string
	texts []string
	users []string
	// reopened are files opened again by path, at most maxReopened at once:
	// the oldest is closed to open another.
	reopened []reopenedFile
}

type reopenedFile struct {
	idx int32
	f   *os.File // nil when it could not be opened
}

// maxReopened bounds the files a digest opens again to read lines back.
const maxReopened = 8

// unreadable stands for a log line that cannot be read back.
const unreadable = "(log line no longer readable)"

// text is the log line m stands for; a line that cannot be read back (its
// batch deleted meanwhile) says so rather than failing the report.
func (l *lineReader) text(m match) string {
	if m.file < 0 {
		return l.texts[m.off()]
	}
	f := l.file(m.file)
	if f == nil {
		return unreadable
	}
	r, err := buffer.ReadRecordAt(f, m.off(), int(m.len))
	if err != nil || m.idx() >= len(r.Matches) {
		return unreadable
	}
	return r.Matches[m.idx()]
}

// file returns buffer file i: the one the caller kept open, or else the
// same path opened again.
func (l *lineReader) file(i int32) *os.File {
	if int(i) < len(l.files) && l.files[i] != nil {
		return l.files[i]
	}
	if int(i) >= len(l.paths) {
		return nil
	}
	for _, r := range l.reopened {
		if r.idx == i {
			return r.f
		}
	}
	if len(l.reopened) == maxReopened {
		if old := l.reopened[0].f; old != nil {
			old.Close()
		}
		l.reopened = slices.Delete(l.reopened, 0, 1)
	}
	f, err := os.Open(l.paths[i])
	if err != nil {
		f = nil
	}
	l.reopened = append(l.reopened, reopenedFile{idx: i, f: f})
	return f
}

// close closes the files opened again.
func (l *lineReader) close() {
	for _, r := range l.reopened {
		if r.f != nil {
			r.f.Close()
		}
	}
	l.reopened = nil
}
