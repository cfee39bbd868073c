// Package report turns buffered ban records into a digest: totals, per-jail
// counts and per-offender facts in a deterministic order, ready for a template.
//
// Every string that came from an attacker (log matches, user names) is
// neutralised when it enters the digest: control characters, bidirectional
// overrides and zero-width characters are replaced by visible escapes, so no
// template, even one a user wrote, can emit them. Markup escaping is the job of
// each format's renderer (see package templates).
package report

import (
	"fmt"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/history"
)

// Digest is the data a report template renders.
type Digest struct {
	Host      string    // host name of the machine that banned
	Generated time.Time // when the digest was built
	From, To  time.Time // earliest and latest event time covered; zero when empty
	Totals    Totals
	Jails     []JailStat // sorted by bans, then name
	Offenders []Offender // sorted by bans, then failures, then IP
	Unbans    []Unban    // sorted by last unban time, then IP
	Notes     Notes

	// At a glance: the busiest networks (report.networks.top of them),
	// providers and countries (with GeoIP databases), the bans per bucket
	// of the period as a line of block characters ("" for a period too
	// short), and the previous report (with a history; nil for none).
	Networks  []Network // sorted by bans, then addresses, then prefix
	ASNs      []ASN     // sorted by bans, then addresses, then number
	Countries []Country // sorted by bans, then addresses, then code
	Sparkline string
	Previous  *Previous
	StandsOut *StandOut // the one thing worth a line of its own; nil for none

	// A report sent although it has no ban, because report.send_empty
	// asks for one (see Quiet): Empty is set, Since is when the channel
	// was last sent a report (zero when nothing is known), and LastBans is
	// the latest earlier report with bans the history knows (nil: none).
	// Fail2ban is what is known of fail2ban when such a report is made
	// (nil: nothing).
	Empty    bool
	Since    time.Time
	LastBans *Previous
	Fail2ban *Fail2ban

	addrs   *walk            // every banned address, with a history: see Record
	history *history.History // what Previous was read from, for Quiet
	chart   banChart         // bans per jail and minute: see Timeline
}

// Fail2ban is what a report without bans says of fail2ban: whether its
// server runs, and which jails run.
type Fail2ban struct {
	Running bool
	// Why says, when it does not run, what shows it, such as "no process
	// 4242 for pid file /var/run/fail2ban/fail2ban.pid".
	Why     string
	Started time.Time // when its server started (Running only)
	// Jails are the jails that started f2b-notify since the server
	// started and have not stopped since, sorted, when JailsKnown.
	Jails      []string
	JailsKnown bool
}

// Totals sums up a digest.
type Totals struct {
	Bans      int // new bans reported (duplicates and restored bans excluded)
	Unbans    int
	Failures  int // failures over the reported bans
	IPs       int // distinct banned addresses
	IPv6      int // distinct banned IPv6 addresses
	Jails     int // jails with at least one ban or unban
	Restored  int // bans replayed by fail2ban at restart, not counted as new
	Duplicate int // records recorded twice (fail2ban retried a command), counted once

	Networks    int // distinct networks of the banned addresses
	ASNs        int // distinct providers, with a GeoIP database
	Countries   int // distinct countries, with a GeoIP database
	New         int // addresses no earlier report had, with a history
	Returning   int // addresses an earlier report had, with a history
	StillBanned int // addresses whose last ban still holds when the report is made
	Escalated   int // addresses the recidive jail banned
}

// JailStat is one jail's line in the digest.
type JailStat struct {
	Name     string
	Bans     int
	Unbans   int
	IPs      int
	Failures int
}

// Offender is one banned address with what it did.
type Offender struct {
	IP          string
	IPv6        bool
	Jails       []string // sorted
	Bans        int
	Failures    int
	FirstSeen   time.Time
	LastSeen    time.Time
	Bantime     int64    // seconds of the last ban, -1 for permanent, 0 unknown
	Users       []string // user names tried, first seen first, capped, each cut to MaxUserLen characters
	MoreUsers   int      // user names beyond the cap
	Matches     []string // log lines, last seen last, capped, each cut to MaxLineLen characters
	MoreMatches int      // log lines beyond the cap
	CutUsers    int      // names in Users that were longer and cut
	CutMatches  int      // lines in Matches that were longer and cut
	Capped      bool     // names or lines left out (counted in MoreUsers, MoreMatches) to stay within MaxOffenderText

	ASN           uint32    // provider's number, with a GeoIP database; 0 unknown
	ASOrg         string    // provider's name, neutralised
	Country       string    // ISO 3166-1 alpha-2 code; "" unknown
	CountryName   string    // neutralised
	Returning     bool      // an earlier report had this address (with a history)
	FirstReported time.Time // the first report that had it; zero when new
	Reports       int       // earlier reports that had it
	StillBanned   bool      // its last ban still holds when the report is made
	BannedUntil   time.Time // when its last ban ends; zero when permanent or unknown
	Escalated     bool      // banned by the recidive jail
}

// Unban is an address fail2ban released during the period.
type Unban struct {
	IP    string
	Jails []string
	Count int
	Last  time.Time // when the last unban was recorded
}

// Notes are the facts a reader must know about the report itself.
type Notes struct {
	Batches       int // spool batches read
	Records       int // records read
	TornLines     int // damaged lines skipped (a crash mid-write)
	Dropped       int // records deleted by retention before this channel got them
	MissedReports int // earlier reports this channel failed to receive
	LastSuccess   time.Time
	MoreOffenders int // offenders left out to fit the channel's size limit
	MoreUnbans    int // unbans left out to fit the channel's size limit
	MoreJails     int // jail rows left out to fit the channel's size limit (the totals count them)
	Page, Pages   int // when a report is split into several messages: this one's number, from 1, and their count
	// FullList is the name of the attached file that lists every offender
	// row, set when this message was cut to fit the channel and the channel
	// carries the list ("" otherwise).
	FullList string
	// FullListPartial is set with FullList when report.max_offenders left
	// offenders out of the report already: the list holds the report's
	// rows, the busiest, not every offender the message leaves out.
	FullListPartial bool
	// Chart is the chart of the report's bans when it goes with this
	// message as a picture (nil otherwise): the HTML part of an e-mail
	// shows it inline, <img src="cid:{{.CID}}" alt="{{.Caption}}">.
	Chart *AttachedChart
	// User names and log lines cut to MaxUserLen and MaxLineLen characters,
	// and offenders whose names and lines went beyond MaxOffenderText, in
	// the offender rows shown (see CountCuts).
	CutUsers, CutMatches, CappedOffenders int

	Warnings []string // what the report could not tell, and why (a GeoIP database or the history unreadable)

	Strays []Stray // records stored here because their own configuration could not be read, by file
}

// AttachedChart names the chart that goes with a message.
type AttachedChart struct {
	Name    string // its file name, such as "bans.png"
	Caption string // what it shows, in one line of plain text: the alt text of the picture
	CID     string // its Content-ID in an e-mail, without the angle brackets
}

// CountCuts sets the notes on cut text to what the offender rows shown
// hold: a report cut to fit a channel counts only the rows it keeps.
func (n *Notes) CountCuts(shown []Offender) {
	n.CutUsers, n.CutMatches, n.CappedOffenders = 0, 0, 0
	for i := range shown {
		n.CutUsers += shown[i].CutUsers
		n.CutMatches += shown[i].CutMatches
		if shown[i].Capped {
			n.CappedOffenders++
		}
	}
}

// Stray counts the records a ban stored in this buffer because the
// configuration it was given (a jail's config=) could not be read.
type Stray struct {
	Config  string // the configuration file that could not be read; "" for the files beyond the first 16
	Records int
}

// Sentence says what the stray records are, stored where (such as "here").
func (s Stray) Sentence(where string) string {
	file := s.Config
	if file == "" {
		file = "other configuration files"
	}
	what := "ban record was"
	if s.Records != 1 {
		what = "ban records were"
	}
	return fmt.Sprintf("%d %s stored %s because %s could not be used (missing, unreadable, or a wrong buffer.dir); fix it, or the jail's config=, so that its bans reach its own report.", s.Records, what, where, file)
}
