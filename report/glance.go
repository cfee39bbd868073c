package report

import (
	"cmp"
	"iter"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/chart"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

// Locator tells which provider and country an address belongs to; a
// *geoip.Resolver is one.
type Locator interface {
	Lookup(addr netip.Addr) (geoip.Info, error)
}

// EscalationJail is the jail fail2ban ships to ban again, for longer, the
// addresses that other jails keep banning.
const EscalationJail = "recidive"

// MaxNameLen bounds the characters of a provider's or country's name shown:
// they come from a database file someone else wrote.
const MaxNameLen = 64

// MaxWarningLen bounds the characters of a warning shown: it may quote a
// file's content.
const MaxWarningLen = 300

// Network is one network of the digest's rollup of addresses.
type Network struct {
	Prefix    string // 203.0.113.0/24
	Addresses int
	Bans      int
	Jails     []string // sorted
}

// ASN is one provider (autonomous system) the banned addresses belong to.
type ASN struct {
	ASN       uint32
	Org       string // neutralised: from a database file
	Addresses int
	Bans      int
}

// Country is one country the banned addresses belong to.
type Country struct {
	Code      string // ISO 3166-1 alpha-2
	Name      string // neutralised: from a database file
	Addresses int
	Bans      int
}

// Previous is the report before this one, from the history: for a
// channel's report, the previous report that channel was sent, in the
// jails it takes (see Digest.PreviousFor).
type Previous struct {
	Time      time.Time
	Bans      int
	Addresses int // summed over its jails: an address banned by two jails counts twice
	Jails     []history.JailTotal
	// Change is the change in bans from the previous report, in percent
	// (+48 for half as many again); 0 when the previous report had none.
	Change float64
}

// Trend says how this report's bans compare with the previous report's:
// "+48%", "-12%", "±0%"; "" when the previous report had no ban.
func (p *Previous) Trend() string {
	if p == nil || p.Bans == 0 {
		return ""
	}
	c := math.Round(p.Change)
	switch {
	case c > 0:
		return "+" + strconv.Itoa(int(c)) + "%"
	case c < 0:
		return strconv.Itoa(int(c)) + "%"
	}
	return "±0%"
}

// glance gathers, while Digest walks every offender, what the summary says
// of them all: networks, providers, countries, new and returning, still
// banned, escalated.
type glance struct {
	b        *Builder
	now      float64
	top      int // networks, providers and countries listed; < 0: all
	nets     *netgroup.Sorted
	asns     map[uint32]*ASN
	cc       map[string]*Country
	geoErr   error
	geoFails int
	// multi is the address banned by the most jails (recidive aside), for
	// what stands out: its address and jails, sorted; none below two.
	multi      netip.Addr
	multiText  string
	multiJails []string
	jails      []string // an offender's, reused
}

func (b *Builder) newGlance(now time.Time) *glance {
	v4, v6 := b.opt.NetV4Bits, b.opt.NetV6Bits
	if v4 == 0 && v6 == 0 {
		v4, v6 = netgroup.DefaultV4Bits, netgroup.DefaultV6Bits
	}
	top := b.opt.TopNetworks
	if top == 0 {
		top = 5
	}
	g := &glance{b: b, now: float64(now.Unix()), top: top, nets: netgroup.NewSorted(v4, v6, top)}
	if b.opt.Geo != nil {
		g.asns, g.cc = map[uint32]*ASN{}, map[string]*Country{}
	}
	return g
}

// add counts the offender o at addr (text: its text when not canonical).
// Digest gives each address once, in order (see walk), as the rollup of
// networks wants them.
func (g *glance) add(d *Digest, addr netip.Addr, text string, o *offender) {
	b := g.b
	bans := int(o.bans)
	g.jails = g.jails[:0]
	b.eachJail(o.jail, func(name string) { g.jails = append(g.jails, name) })
	g.nets.Add(addr, g.jails, bans)
	escalated := slices.Contains(g.jails, EscalationJail)
	if escalated {
		d.Totals.Escalated++
	}
	g.noteJails(addr, text)
	if still, _ := g.stillBanned(addr, text, o); still {
		d.Totals.StillBanned++
	}
	if h := b.opt.History; h != nil {
		if _, _, _, ok := h.Lookup(addr); ok {
			d.Totals.Returning++
		} else {
			d.Totals.New++
		}
	}
	if b.opt.Geo == nil || !addr.IsValid() {
		return
	}
	info, err := b.opt.Geo.Lookup(addr)
	if err != nil {
		g.geoFails++
		if g.geoErr == nil {
			g.geoErr = err
		}
	}
	if info.ASN != 0 {
		a := g.asns[info.ASN]
		if a == nil {
			a = &ASN{ASN: info.ASN, Org: showName(info.Org)}
			g.asns[info.ASN] = a
		}
		a.Addresses++
		a.Bans += bans
	}
	if info.Country != "" {
		c := g.cc[info.Country]
		if c == nil {
			c = &Country{Code: showName(info.Country), Name: showName(info.CountryName)}
			g.cc[info.Country] = c
		}
		c.Addresses++
		c.Bans += bans
	}
}

// showName is a name from a database file as a report shows it.
func showName(s string) string {
	s, _ = shown(s, MaxNameLen)
	return s
}

// stillBanned reports whether the offender's last ban still holds at the
// time the digest is built, and until when (zero for a permanent ban or an
// unknown bantime). A ban whose bantime is unknown is not taken as holding;
// an unban recorded after the last ban ends it.
func (g *glance) stillBanned(addr netip.Addr, text string, o *offender) (bool, time.Time) {
	if h, ok := g.b.unbanned.lookup(addr, text); ok && g.b.unbans.at(h).last >= o.last {
		return false, time.Time{}
	}
	switch {
	case o.bantime < 0:
		return true, time.Time{}
	case o.bantime == 0:
		return false, time.Time{}
	}
	until := o.last + float64(o.bantime)
	return until > g.now, unix(until)
}

// finish fills in the digest's rollups.
func (g *glance) finish(d *Digest) {
	b, top := g.b, g.top
	d.Totals.Networks = g.nets.Len()
	for _, n := range g.nets.Top() {
		jails := make([]string, len(n.Jails))
		for i, j := range n.Jails {
			jails[i] = Neutralise(j)
		}
		d.Networks = append(d.Networks, Network{Prefix: n.Prefix.String(), Addresses: n.Addresses, Bans: n.Bans, Jails: jails})
	}
	if b.opt.Geo != nil {
		d.Totals.ASNs, d.Totals.Countries = len(g.asns), len(g.cc)
		d.ASNs = topOf(slices.Collect(maps.Values(g.asns)), top, func(a, c *ASN) int {
			return cmp.Or(cmp.Compare(c.Bans, a.Bans), cmp.Compare(c.Addresses, a.Addresses), cmp.Compare(a.ASN, c.ASN))
		})
		d.Countries = topOf(slices.Collect(maps.Values(g.cc)), top, func(a, c *Country) int {
			return cmp.Or(cmp.Compare(c.Bans, a.Bans), cmp.Compare(c.Addresses, a.Addresses), cmp.Compare(a.Code, c.Code))
		})
		if g.geoErr != nil {
			w, _ := shown(textLine("provider and country look-ups failed for "+strconv.Itoa(g.geoFails)+" addresses: "+g.geoErr.Error()), MaxWarningLen)
			d.Notes.Warnings = append(d.Notes.Warnings, w)
		}
	}
	if h := b.opt.History; h != nil {
		d.history = h
		d.Previous = previousOf(h, "", nil, d.Totals.Bans, false)
	}
}

// noteJails keeps the address banned by the most jails, recidive aside
// (its bans repeat another jail's); ties go to the address first in order.
func (g *glance) noteJails(addr netip.Addr, text string) {
	n := len(g.jails)
	if slices.Contains(g.jails, EscalationJail) {
		n--
	}
	best := len(g.multiJails)
	if n < 2 || n < best || n == best && !addrBefore(addr, text, g.multi, g.multiText) {
		return
	}
	g.multi, g.multiText = addr, text
	g.multiJails = g.multiJails[:0]
	for _, j := range g.jails {
		if j != EscalationJail {
			g.multiJails = append(g.multiJails, j)
		}
	}
	slices.Sort(g.multiJails)
}

// addrBefore orders addresses for ties: by address, then by text for the
// ones that do not parse.
func addrBefore(a netip.Addr, at string, b netip.Addr, bt string) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return at < bt
}

// StandOut is the one thing of a report worth a line of its own: only one
// of its parts is set, the first that applies of jails banning for the
// first time, a spike, an address several jails banned.
type StandOut struct {
	// NewJails ban for the first time: no earlier report of the history
	// had them (sorted, neutralised).
	NewJails []string
	// Spike is the busiest bucket of the period, when it holds at least
	// SpikeMin bans and SpikeTimes times the average bucket.
	Spike *Spike
	// Address was banned by the jails Jails (at least two, recidive aside,
	// sorted, neutralised).
	Address string
	Jails   []string
}

// Spike is a bucket of the period with many more bans than the others.
type Spike struct {
	At    time.Time     // the bucket's start
	Step  time.Duration // its length
	Bans  int
	Times float64 // its bans over the average bucket's
}

// Spike thresholds: see StandOut.Spike.
const (
	SpikeMin   = 10
	SpikeTimes = 4.0
)

// standsOut finds what stands out in d; nil when nothing does.
func (g *glance) standsOut(tl *chart.Timeline) *StandOut {
	if h := g.b.opt.History; h != nil && len(h.Reports()) > 0 {
		known := map[string]bool{}
		for _, r := range h.Reports() {
			for _, j := range r.Jails {
				known[j.Jail] = true
			}
		}
		var fresh []string
		for name, j := range g.b.jails {
			if j.Bans > 0 && !known[name] {
				fresh = append(fresh, Neutralise(name))
			}
		}
		if len(fresh) > 0 {
			slices.Sort(fresh)
			return &StandOut{NewJails: fresh}
		}
	}
	if tl != nil {
		totals := tl.Totals()
		top, sum := 0, 0
		for i, n := range totals {
			sum += n
			if n > totals[top] {
				top = i
			}
		}
		avg := float64(sum) / float64(len(totals))
		if n := totals[top]; n >= SpikeMin && float64(n) >= SpikeTimes*avg {
			return &StandOut{Spike: &Spike{At: tl.Bucket(top), Step: tl.Step(), Bans: n, Times: float64(n) / avg}}
		}
	}
	if len(g.multiJails) >= 2 {
		who := g.multiText
		if g.multi.IsValid() {
			who = g.multi.String()
		}
		jails := make([]string, len(g.multiJails))
		for i, j := range g.multiJails {
			jails[i] = Neutralise(j)
		}
		return &StandOut{Address: Neutralise(who), Jails: jails}
	}
	return nil
}

// previousOf is the latest report of h sent to channel (see
// history.PreviousFor; any channel's for ""), restricted to the jails given
// (all for none), compared with bans; with withBans, the latest that had
// bans in those jails. Nil when there is none.
func previousOf(h *history.History, channel string, jails []string, bans int, withBans bool) *Previous {
	reports := h.Reports()
	for i := len(reports) - 1; i >= 0; i-- {
		if channel != "" && !reports[i].IsFor(channel) {
			continue // another channel's: other jails, other batches
		}
		prev := &Previous{Time: reports[i].Time}
		for _, j := range reports[i].Jails {
			if len(jails) > 0 && !slices.Contains(jails, j.Jail) {
				continue
			}
			j.Jail = Neutralise(j.Jail) // as recorded, but from a file
			prev.Jails = append(prev.Jails, j)
			prev.Bans += j.Bans
			prev.Addresses += j.Addresses
		}
		if withBans && prev.Bans == 0 {
			continue
		}
		if prev.Bans > 0 {
			prev.Change = float64(bans-prev.Bans) * 100 / float64(prev.Bans)
		}
		return prev
	}
	return nil
}

// PreviousFor returns a copy of d whose Previous, from the history d was
// built with, is the previous report channel was sent, restricted to jails
// (the jails it takes; all for none): a channel that reports sshd alone
// compares its sshd bans with its previous report's, not with every
// jail's. A report from before reports were recorded per channel stands
// in, restricted to jails, until the channel has one of its own.
func (d *Digest) PreviousFor(channel string, jails []string) *Digest {
	c := *d
	if d.history != nil {
		c.Previous = previousOf(d.history, channel, jails, d.Totals.Bans, false)
	}
	return &c
}

// Quiet returns a copy of d, a digest without bans, as the report that
// report.send_empty sends to channel: marked Empty, saying no bans since
// the time given (when the channel was last sent a report; zero for never,
// then the latest report the history knows stands in), and with the
// latest earlier report to it that had bans in jails (all for none), from
// the history d was built with; f2b is what is known of fail2ban (nil:
// nothing).
func (d *Digest) Quiet(since time.Time, channel string, jails []string, f2b *Fail2ban) *Digest {
	c := *d
	c.Empty = true
	c.Since = since
	c.Fail2ban = f2b
	if h := d.history; h != nil {
		if since.IsZero() {
			if p, ok := h.Previous(); ok {
				c.Since = p.Time
			}
		}
		c.LastBans = previousOf(h, channel, jails, 0, true)
	}
	return &c
}

// topOf sorts all by cmp and returns the first n of them (all for n < 0),
// as values.
func topOf[T any](all []*T, n int, cmp func(a, b *T) int) []T {
	slices.SortFunc(all, cmp)
	if n >= 0 && len(all) > n {
		all = all[:n]
	}
	out := make([]T, len(all))
	for i, p := range all {
		out[i] = *p
	}
	return out
}

// textLine keeps the first line of s.
func textLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// exportGlance fills in what the offender row o says of its address.
func (g *glance) exportGlance(off *Offender, addr netip.Addr, text string, o *offender) {
	off.StillBanned, off.BannedUntil = g.stillBanned(addr, text, o)
	off.Escalated = slices.Contains(off.Jails, EscalationJail)
	if h := g.b.opt.History; h != nil {
		if first, _, n, ok := h.Lookup(addr); ok {
			off.Returning, off.FirstReported, off.Reports = true, first, n
		}
	}
	if g.b.opt.Geo != nil && addr.IsValid() {
		info, _ := g.b.opt.Geo.Lookup(addr)
		off.ASN, off.ASOrg = info.ASN, showName(info.Org)
		off.Country, off.CountryName = showName(info.Country), showName(info.CountryName)
	}
}

// banMinute is one jail's minute: the key of banTimes.
type banMinute struct {
	jail   int32 // number+1 in Builder.jailNames
	minute int64 // Unix time / 60
}

// banTimes counts bans per jail and minute, for the chart and the
// sparkline: a day of bans in five jails is at most 7,200 entries.
type banTimes map[banMinute]int32

func (bt banTimes) add(jail int32, t float64) {
	bt[banMinute{jail, int64(math.Floor(t / 60))}]++
}

// banChart is what a digest keeps to draw its bans over its period.
type banChart struct {
	times banTimes
	jails []string // by number-1, as recorded
}

// timeline counts the bans of c over from..to per jail (names neutralised,
// as the report shows them), its buckets aligned in loc; nil when there is
// nothing to draw: no ban, or a period too short for two buckets.
func (c banChart) timeline(from, to time.Time, loc *time.Location) *chart.Timeline {
	if len(c.times) == 0 || !from.Before(to) {
		return nil
	}
	tl := chart.NewTimeline(from.In(loc), to.In(loc))
	if tl.Len() < 2 {
		return nil
	}
	for k, n := range c.times {
		tl.Add(Neutralise(c.jails[k.jail-1]), time.Unix(k.minute*60, 0), int(n))
	}
	return tl
}

// Timeline returns the digest's bans per jail over its period, in buckets
// aligned and labelled in loc (nil: the host's zone), for a chart; nil when
// there is nothing to draw (no ban, or a period too short for two buckets).
// Each call builds a new Timeline from counts per minute: a day of bans in
// five jails is at most 7,200 of them.
func (d *Digest) Timeline(loc *time.Location) *chart.Timeline {
	if loc == nil {
		loc = time.Local
	}
	return d.chart.timeline(d.From, d.To, loc)
}

// Addresses returns every banned address of the digest, for the history;
// empty unless the digest was built with a history.
func (d *Digest) Addresses() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		if d.addrs == nil {
			return
		}
		for _, v := range d.addrs.v4 {
			if !yield(netip.AddrFrom4(key4(v))) {
				return
			}
		}
		for i := range d.addrs.v6 {
			if !yield(netip.AddrFrom16(d.addrs.v6[i].addr)) {
				return
			}
		}
	}
}

// Record adds the digest to the history as a report made at t for
// channel ("" for none in particular): its addresses and its totals per
// jail.
func (d *Digest) Record(h *history.History, t time.Time, channel string) error {
	jails := make([]history.JailTotal, 0, len(d.Jails))
	for _, j := range d.Jails {
		if j.Bans > 0 {
			jails = append(jails, history.JailTotal{Jail: j.Name, Bans: j.Bans, Addresses: j.IPs})
		}
	}
	slices.SortFunc(jails, func(a, b history.JailTotal) int { return cmp.Compare(a.Jail, b.Jail) })
	return h.RecordFor(t, channel, d.Addresses(), jails)
}
