package render

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/chart"
	"github.com/f2b-notify/f2b-notify/report"
)

// The attachments' file names and the chart's size in pixels: wide enough
// for a day of hourly bars with their labels, and within a phone's screen
// once an e-mail client scales it to the width.
const (
	ChartName   = "bans.png"
	FullListCSV = "offenders.csv"
	chartWidth  = 800
	chartHeight = 360
)

// takes reports whether the target's channel can carry attachments of kind
// k and its configuration lets it.
func (t *Target) takes(k channels.AttachmentKind) bool {
	a, ok := t.Channel.(channels.Attacher)
	return ok && a.Attaches(k) && t.Config.Takes(string(k))
}

// chartOf draws the bans of d over its period, per jail; nil when there is
// nothing to draw (see report.Digest.Timeline).
func (t *Target) chartOf(d *report.Digest) (*channels.Attachment, error) {
	tl := d.Timeline(t.Location)
	if tl == nil {
		return nil, nil
	}
	png, err := chart.PNG(tl, chartWidth, chartHeight)
	if err != nil {
		return nil, err
	}
	last := tl.Bucket(tl.Len() - 1).Add(tl.Step())
	caption := fmt.Sprintf("Bans per %s and jail, %s – %s", chart.StepName(tl.Step()),
		tl.Bucket(0).Format("2006-01-02 15:04"), last.Format("2006-01-02 15:04 MST"))
	return &channels.Attachment{Kind: channels.Chart, Name: ChartName, Type: "image/png", Data: png, Caption: caption}, nil
}

// fullList is every offender row of d as CSV, one line per address, for a
// channel whose size limit cut rows from the message. Spreadsheets run a
// cell that starts with =, +, - or @ as a formula, and user names and log
// lines are the attacker's words: such cells are prefixed with a quote.
func fullList(d *report.Digest, loc *time.Location) (*channels.Attachment, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := []string{"ip", "bans", "failures", "first_seen", "last_seen", "jails", "asn", "as_org", "country",
		"returning", "first_reported", "still_banned", "banned_until", "escalated", "users", "last_log_line"}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	for _, o := range d.Offenders {
		asn, line := "", ""
		if o.ASN != 0 {
			asn = "AS" + strconv.FormatUint(uint64(o.ASN), 10)
		}
		if len(o.Matches) > 0 {
			line = o.Matches[len(o.Matches)-1]
		}
		row := []string{o.IP, strconv.Itoa(o.Bans), strconv.Itoa(o.Failures), when(o.FirstSeen), when(o.LastSeen),
			strings.Join(o.Jails, " "), asn, o.ASOrg, o.Country, strconv.FormatBool(o.Returning), when(o.FirstReported),
			strconv.FormatBool(o.StillBanned), when(o.BannedUntil), strconv.FormatBool(o.Escalated), strings.Join(o.Users, " "), line}
		for i := range row {
			row[i] = inert(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write the list of offenders as CSV: %w", err)
	}
	caption := fmt.Sprintf("All %d offender rows of the report", len(d.Offenders))
	return &channels.Attachment{Kind: channels.FullList, Name: FullListCSV, Type: "text/csv; charset=utf-8", Data: b.Bytes(), Caption: caption}, nil
}

// inert keeps a spreadsheet from taking a CSV cell for a formula.
func inert(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
