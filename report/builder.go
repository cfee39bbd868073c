package report

import (
	"cmp"
	"container/heap"
	"hash/maphash"
	"maps"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
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
// keeps counts, at most MaxUsers names, MaxMatches log lines and a few hashes.
type Builder struct {
	opt       Options
	offenders map[string]*offender
	unbans    map[string]*unban
	jails     map[string]*JailStat
	intern    map[string]string // jail names
	userIDs   map[string]uint32 // user names, which repeat a lot, by number
	userNames []string
	userBytes int      // bytes of userNames
	texts     []string // log lines of records added without a reference
	seed      maphash.Seed
	totals    Totals
	notes     Notes
	strays    map[string]int // records by the configuration that could not be read (Record.Config)
	from, to  float64        // event times, epoch seconds
}

// maxStrays bounds the configuration files a digest names for its strays;
// records naming others are counted together.
const maxStrays = 16

type jailSeen struct {
	name string
	last float64 // time of the last ban seen, to drop fail2ban's retries
}

// offender is what the builder keeps per banned address: a few hundred
// bytes, whatever the number of its records. Its address string is the key
// of Builder.offenders.
//
// Its size is what a flush's memory grows with (a host under a long attack
// has hundreds of thousands of them): the address is parsed only when the
// digest is built, and the rare offenders that try many user names get the
// count of the others on the side.
type offender struct {
	first, last float64
	bantime     int64
	jails       []jailSeen
	users       []uint32   // the first MaxUsers distinct names, as numbers in Builder.userNames
	more        *moreUsers // nil until a name beyond MaxUsers comes
	matches     []match    // ring of the last MaxMatches lines
	bans        int32
	failures    int32
	next        int32 // ring position
	seen        int32 // lines seen in all
}

// moreUsers counts an offender's distinct user names beyond the ones kept.
type moreUsers struct {
	hashes   []uint32 // hashes of further distinct names, up to trackUsers
	overflow int32    // distinct names beyond those too
}

func (m *moreUsers) count() int {
	if m == nil {
		return 0
	}
	return len(m.hashes) + int(m.overflow)
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
	ip    string
	addr  netip.Addr
	count int
	last  float64
	jails []jailSeen
}

// NewBuilder returns an empty builder.
func NewBuilder(opt Options) *Builder {
	if opt.MaxUsers <= 0 {
		opt.MaxUsers = 5
	}
	if opt.MaxMatches <= 0 {
		opt.MaxMatches = 3
	}
	return &Builder{
		opt:       opt,
		offenders: map[string]*offender{},
		unbans:    map[string]*unban{},
		jails:     map[string]*JailStat{},
		intern:    map[string]string{},
		userIDs:   map[string]uint32{},
		seed:      maphash.MakeSeed(),
		from:      math.Inf(1),
		to:        math.Inf(-1),
	}
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

// name interns a short, often repeated string (a jail or user name), so
// that a hundred thousand offenders share one copy of "root".
func (b *Builder) name(s string) string {
	if v, ok := b.intern[s]; ok {
		return v
	}
	if len(b.intern) < 50000 && len(s) <= 64 {
		b.intern[s] = s
	}
	return s
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
func (b *Builder) seenJail(list *[]jailSeen, jail string, t float64) (repeat bool) {
	for i := range *list {
		if (*list)[i].name == jail {
			if t > 0 && (*list)[i].last == t {
				return true
			}
			(*list)[i].last = t
			return false
		}
	}
	*list = append(*list, jailSeen{name: b.name(jail), last: t})
	return false
}

func (b *Builder) addBan(r *buffer.Record, t float64, ref *LineRef) {
	if r.Restored && !b.opt.IncludeRestored {
		b.totals.Restored++
		return
	}
	o := b.offenders[r.IP]
	if o == nil {
		o = &offender{first: t, last: t}
		b.offenders[r.IP] = o
	}
	if b.seenJail(&o.jails, r.Jail, r.Time) {
		b.totals.Duplicate++
		return
	}
	b.span(t)
	o.bans++
	o.failures += int32(r.Failures)
	o.first = min(o.first, t)
	if t >= o.last {
		o.last = t
		o.bantime = r.Bantime
	}
	if r.User != "" {
		b.addUser(o, r.User)
	}
	if ref != nil && r.Matches == nil {
		// Lines counted, not decoded: keep where to read them back.
		for i := range min(r.Lines, 1<<16) {
			o.addMatch(newMatch(ref.File, ref.Off, ref.Len, i), b.opt.MaxMatches)
		}
	}
	for i, m := range r.Matches {
		if m == "" {
			continue
		}
		if ref != nil {
			o.addMatch(newMatch(ref.File, ref.Off, ref.Len, i), b.opt.MaxMatches)
			continue
		}
		b.texts = append(b.texts, keep(m, MaxLineLen))
		o.addMatch(newMatch(-1, int64(len(b.texts)-1), 0, i), b.opt.MaxMatches)
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

func (b *Builder) addUser(o *offender, u string) {
	// Names are told apart by what a report can show of them.
	full := u
	u = u[:headLen(u, MaxUserLen+1)]
	id, known := b.userIDs[u]
	if known && slices.Contains(o.users, id) {
		return
	}
	if len(o.users) < b.opt.MaxUsers && (known || len(b.userNames) < maxUserNames && b.userBytes+len(u) <= maxUserBytes) {
		if !known {
			if len(u) < len(full) {
				u = strings.Clone(u) // not the whole long name
			}
			id = uint32(len(b.userNames))
			b.userNames = append(b.userNames, u)
			b.userIDs[u] = id
			b.userBytes += len(u)
		}
		if o.users == nil {
			o.users = make([]uint32, 0, b.opt.MaxUsers)
		}
		o.users = append(o.users, id)
		return
	}
	if o.more == nil {
		o.more = &moreUsers{}
	}
	h := uint32(maphash.String(b.seed, u))
	if slices.Contains(o.more.hashes, h) {
		return
	}
	if len(o.more.hashes) < trackUsers {
		o.more.hashes = append(o.more.hashes, h)
		return
	}
	o.more.overflow++
}

func (o *offender) addMatch(m match, max int) {
	o.seen++
	if len(o.matches) < max {
		if o.matches == nil {
			o.matches = make([]match, 0, max)
		}
		o.matches = append(o.matches, m)
		return
	}
	o.matches[o.next] = m
	o.next = (o.next + 1) % int32(max)
}

func (b *Builder) addUnban(r *buffer.Record, t float64) {
	u := b.unbans[r.IP]
	if u == nil {
		u = &unban{ip: r.IP}
		u.addr, _ = netip.ParseAddr(r.IP)
		b.unbans[r.IP] = u
	}
	if b.seenJail(&u.jails, r.Jail, r.Time) {
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
func (b *Builder) Digest() *Digest {
	d := &Digest{
		Host:      Neutralise(b.opt.Host),
		Generated: b.opt.Generated,
		Totals:    b.totals,
		Notes:     b.notes,
	}
	if d.Generated.IsZero() {
		d.Generated = time.Now()
	}
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
	for ip, o := range b.offenders {
		if o.bans == 0 {
			continue
		}
		d.Totals.IPs++
		addr, _ := netip.ParseAddr(ip)
		for _, j := range o.jails {
			jailIPs[j.name]++
		}
		if isIPv6(addr) {
			d.Totals.IPv6++
		}
		r := ranked{ip, addr, o}
		switch {
		case keep <= 0:
			*top = append(*top, r) // every row: sorted below
		case len(*top) < keep:
			heap.Push(top, r)
		case r.before((*top)[0]):
			(*top)[0] = r
			heap.Fix(top, 0)
		}
	}
	all := []ranked(*top)
	slices.SortFunc(all, ranked.compare)
	d.Notes.MoreOffenders += d.Totals.IPs - len(all)
	lines := &lineReader{files: b.opt.Files, paths: b.opt.Paths, texts: b.texts, users: b.userNames}
	d.Offenders = make([]Offender, len(all))
	for i, r := range all {
		d.Offenders[i] = r.o.export(r.ip, isIPv6(r.addr), lines)
	}
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

	unbans := make([]*unban, 0, len(b.unbans))
	for _, u := range b.unbans {
		if u.count > 0 {
			unbans = append(unbans, u)
		}
	}
	slices.SortFunc(unbans, func(x, y *unban) int {
		return cmp.Or(cmp.Compare(x.last, y.last), x.addr.Compare(y.addr), cmp.Compare(x.ip, y.ip))
	})
	for _, u := range unbans {
		d.Unbans = append(d.Unbans, Unban{IP: Neutralise(u.ip), Jails: jailNames(u.jails), Count: u.count, Last: unix(u.last)})
	}
	return d
}

// ranked is an offender being ranked for the digest's rows.
type ranked struct {
	ip   string
	addr netip.Addr
	o    *offender
}

// compare orders offenders as the report lists them: more bans first, then
// more failures, then by address.
func (r ranked) compare(q ranked) int {
	return cmp.Or(cmp.Compare(q.o.bans, r.o.bans), cmp.Compare(q.o.failures, r.o.failures), r.addr.Compare(q.addr), cmp.Compare(r.ip, q.ip))
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
func (o *offender) export(ip string, ipv6 bool, lines *lineReader) Offender {
	off := Offender{
		IP:          Neutralise(ip),
		IPv6:        ipv6,
		Jails:       jailNames(o.jails),
		Bans:        int(o.bans),
		Failures:    int(o.failures),
		FirstSeen:   unix(o.first),
		LastSeen:    unix(o.last),
		Bantime:     o.bantime,
		MoreUsers:   o.more.count(),
		MoreMatches: int(o.seen) - len(o.matches),
	}
	// Each name and line cut to its length, all of them to the offender's
	// share: the names first, then the newest lines.
	budget := MaxOffenderText
	var leftUsers, leftLines int
	off.Users, off.CutUsers, leftUsers = fill(len(o.users), func(i int) string { return lines.users[o.users[i]] }, MaxUserLen, &budget)
	off.Matches, off.CutMatches, leftLines = fill(len(o.matches), func(i int) string {
		return lines.text(o.matches[(int(o.next)+len(o.matches)-1-i)%len(o.matches)]) // the ring's newest line first
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

func jailNames(js []jailSeen) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = Neutralise(j.name)
	}
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
