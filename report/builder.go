package report

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// Options shape a digest.
type Options struct {
	Host            string
	Generated       time.Time // zero: time.Now()
	MaxUsers        int       // user names kept per offender; 0 means 5
	MaxMatches      int       // log lines kept per offender; 0 means 3
	IncludeRestored bool      // report bans replayed at restart as new bans
}

// trackUsers bounds the distinct user names remembered per offender.
const trackUsers = 32

// Builder aggregates records into a Digest. Its memory grows with the number
// of distinct addresses, not with the number of records.
type Builder struct {
	opt       Options
	offenders map[string]*offender
	unbans    map[string]*unban
	jails     map[string]*JailStat
	totals    Totals
	notes     Notes
	from, to  time.Time
}

type offender struct {
	o         Offender
	jails     map[string]float64 // jail -> time of the last ban seen, to drop fail2ban's retries
	extraUser int                // distinct names beyond trackUsers
	matches   []string           // ring of the last MaxMatches lines
	next      int                // ring position
	seen      int                // lines seen in all
}

type unban struct {
	u     Unban
	jails map[string]float64
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
	}
}

// AddStats counts what a scan read: batches, records and damaged lines.
func (b *Builder) AddStats(st buffer.ScanStats, batches int) {
	b.notes.Batches += batches
	b.notes.Records += st.Records
	b.notes.TornLines += st.Torn
}

// Add folds one record into the digest.
func (b *Builder) Add(r *buffer.Record) {
	t := r.EventTime()
	switch r.Action {
	case buffer.ActionBan:
		b.addBan(r, t)
	case buffer.ActionUnban:
		b.addUnban(r, t)
	}
}

func (b *Builder) span(t time.Time) {
	if b.from.IsZero() || t.Before(b.from) {
		b.from = t
	}
	if t.After(b.to) {
		b.to = t
	}
}

func (b *Builder) jail(name string) *JailStat {
	j := b.jails[name]
	if j == nil {
		j = &JailStat{Name: name}
		b.jails[name] = j
	}
	return j
}

func (b *Builder) addBan(r *buffer.Record, t time.Time) {
	if r.Restored && !b.opt.IncludeRestored {
		b.totals.Restored++
		return
	}
	o := b.offenders[r.IP]
	if o == nil {
		o = &offender{o: Offender{IP: r.IP, FirstSeen: t, LastSeen: t}, jails: map[string]float64{}}
		if a, err := netip.ParseAddr(r.IP); err == nil && a.Is6() && !a.Is4In6() {
			o.o.IPv6 = true
		}
		b.offenders[r.IP] = o
	}
	if last, ok := o.jails[r.Jail]; ok && r.Time > 0 && last == r.Time {
		b.totals.Duplicate++ // fail2ban ran the same actionban twice
		return
	}
	o.jails[r.Jail] = r.Time
	b.span(t)
	o.o.Bans++
	o.o.Failures += r.Failures
	if t.Before(o.o.FirstSeen) {
		o.o.FirstSeen = t
	}
	if !t.Before(o.o.LastSeen) {
		o.o.LastSeen = t
		o.o.Bantime = r.Bantime
	}
	if r.User != "" {
		o.addUser(Neutralise(r.User))
	}
	for _, m := range r.Matches {
		if m != "" {
			o.addMatch(Neutralise(m), b.opt.MaxMatches)
		}
	}
	j := b.jail(r.Jail)
	j.Bans++
	j.Failures += r.Failures
	b.totals.Bans++
	b.totals.Failures += r.Failures
}

func (o *offender) addUser(u string) {
	if slices.Contains(o.o.Users, u) {
		return
	}
	if len(o.o.Users) < trackUsers {
		o.o.Users = append(o.o.Users, u)
		return
	}
	o.extraUser++
}

func (o *offender) addMatch(m string, max int) {
	o.seen++
	if len(o.matches) < max {
		o.matches = append(o.matches, m)
		return
	}
	o.matches[o.next] = m
	o.next = (o.next + 1) % max
}

func (b *Builder) addUnban(r *buffer.Record, t time.Time) {
	u := b.unbans[r.IP]
	if u == nil {
		u = &unban{u: Unban{IP: r.IP}, jails: map[string]float64{}}
		b.unbans[r.IP] = u
	}
	if last, ok := u.jails[r.Jail]; ok && r.Time > 0 && last == r.Time {
		b.totals.Duplicate++
		return
	}
	u.jails[r.Jail] = r.Time
	b.span(t)
	u.u.Count++
	if t.After(u.u.Last) {
		u.u.Last = t
	}
	b.jail(r.Jail).Unbans++
	b.totals.Unbans++
}

// Digest returns the aggregate, sorted. The builder can go on adding after.
func (b *Builder) Digest() *Digest {
	d := &Digest{
		Host:      Neutralise(b.opt.Host),
		Generated: b.opt.Generated,
		From:      b.from,
		To:        b.to,
		Totals:    b.totals,
		Notes:     b.notes,
	}
	if d.Generated.IsZero() {
		d.Generated = time.Now()
	}
	jailIPs := map[string]int{}
	d.Offenders = make([]Offender, 0, len(b.offenders))
	for _, o := range b.offenders {
		if o.o.Bans == 0 {
			continue
		}
		off := o.o
		off.Jails = sortedKeys(o.jails)
		for _, j := range off.Jails {
			jailIPs[j]++
		}
		if len(off.Users) > b.opt.MaxUsers {
			off.MoreUsers = len(off.Users) - b.opt.MaxUsers + o.extraUser
			off.Users = slices.Clone(off.Users[:b.opt.MaxUsers])
		} else {
			off.Users = slices.Clone(off.Users)
			off.MoreUsers = o.extraUser
		}
		// Unroll the ring: oldest kept line first.
		off.Matches = append(slices.Clone(o.matches[o.next:]), o.matches[:o.next]...)
		off.MoreMatches = o.seen - len(off.Matches)
		if off.IPv6 {
			d.Totals.IPv6++
		}
		d.Offenders = append(d.Offenders, off)
	}
	d.Totals.IPs = len(d.Offenders)
	slices.SortFunc(d.Offenders, func(a, b Offender) int {
		return cmp.Or(cmp.Compare(b.Bans, a.Bans), cmp.Compare(b.Failures, a.Failures), compareIP(a.IP, b.IP))
	})
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
	for i := range d.Offenders {
		for k, j := range d.Offenders[i].Jails {
			d.Offenders[i].Jails[k] = Neutralise(j)
		}
	}
	for _, u := range b.unbans {
		un := u.u
		un.Jails = sortedKeys(u.jails)
		for k, j := range un.Jails {
			un.Jails[k] = Neutralise(j)
		}
		d.Unbans = append(d.Unbans, un)
	}
	slices.SortFunc(d.Unbans, func(a, b Unban) int {
		return cmp.Or(a.Last.Compare(b.Last), compareIP(a.IP, b.IP))
	})
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// compareIP orders addresses numerically, IPv4 before IPv6.
func compareIP(a, b string) int {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return cmp.Compare(a, b)
	}
	return pa.Compare(pb)
}
