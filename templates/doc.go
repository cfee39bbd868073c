// Package templates renders a report.Digest in a channel's format (text, HTML,
// Markdown, a chat platform's markup, or the summary of one SMS: the
// dialects listed in dialect.go)
// with the embedded default templates (default/report.FORMAT.tmpl) or with
// templates users write, and holds the function map those templates can call.
//
// HTML templates are parsed with html/template, so every value is escaped for
// the context it lands in, by construction, also in a user's template. Text and
// Markdown templates are parsed with text/template; their output passes a final
// filter that turns any control character other than newline and tab (ESC
// included) and any bidirectional control into a visible escape such as \x1b,
// so nothing a template prints can drive a terminal. Strings that came from an
// attacker are already neutralised by report.Neutralise when the digest is
// built; Markdown markup in them is escaped only where a template calls md, as
// the default Markdown template does.
//
// # Template data
//
// A template renders a *report.Digest: {{.Host}}, {{.From}}, {{.To}},
// {{.Totals.Bans}}, {{range .Jails}}{{.Name}}{{end}},
// {{range .Offenders}}{{.IP}} {{.Users}} {{.Matches}}{{end}},
// {{range .Unbans}}...{{end}}, {{.Notes.TornLines}} and so on; see package
// report for every field.
//
// # Functions
//
// Besides the text/template built-ins (len, index, printf, eq, lt, and, or,
// ...), templates can call:
//
//	date LAYOUT TIME      TIME formatted with the Go LAYOUT in Options.Location
//	                      (or in the zone inZone gave it); the zero time prints "-".
//	                      {{date "2006-01-02 15:04 MST" .From}}
//	inZone ZONE TIME      TIME in the IANA zone ZONE; an unknown zone is an error.
//	                      {{.LastSeen | inZone "Europe/Paris" | date "15:04"}}
//	duration D            a time.Duration, or a number of seconds, in its two
//	                      largest units: "45s", "1h30m", "2d3h".
//	                      {{duration .Bantime}}  {{duration (.To.Sub .From)}}
//	truncate N S          S cut to at most N runes, ending in "…" when cut.
//	                      {{truncate 60 .}}
//	wrap N INDENT S       S broken at spaces into lines of at most N runes, the
//	                      lines after the first starting with INDENT (a word
//	                      longer than N is not cut); for text in 80 columns:
//	                      - {{wrap 76 "    " .}}
//	join SEP LIST         the elements of LIST joined with SEP.
//	                      {{join ", " .Jails}}
//	plural N ONE MANY     ONE when N is 1, else MANY.
//	                      {{.Totals.Bans}} {{plural .Totals.Bans "ban" "bans"}}
//	notes NOTES           what a reader must know about the report itself, one
//	                      sentence each (damaged lines, retention drops, missed
//	                      reports, rows left out); every default template uses it:
//	                      {{range notes .Notes}}- {{.}}{{end}}
//	glance DIGEST         the report in at most four lines of plain text: bans
//	                      and the change from the previous report, networks,
//	                      providers and countries, new and returning
//	                      addresses, still banned; in a report of no bans
//	                      (report.send_empty), since when there were none and
//	                      the last bans known; every default template
//	                      starts with it: {{range glance .}}{{.}}{{end}}
//	origin OFFENDER       where an offender comes from and whether it is back, in
//	                      one line: "AS64499 Test-Net Telecom · BR Brazil ·
//	                      returning, 4 reports since Nov 02"; each part only
//	                      when known (GeoIP databases, the history), "" when
//	                      none is: {{with origin .}}from: {{.}}{{end}}
//	padRight N V          V as text, padded with spaces to N runes (for tables).
//	padLeft N V           the same, padded on the left (for numbers).
//	                      {{padRight 20 .Name}}{{padLeft 6 .Bans}}
//	first N LIST          the first N elements of LIST (all when it has fewer).
//	                      {{range first 10 .Offenders}}...{{end}}
//	count LIST            the number of elements of a list or map (bytes of a
//	                      string, as len); 0 for nil.
//	add A B, sub A B      integer sum and difference.
//	                      and {{sub (count .Offenders) 10}} more
//	upper S, lower S      S in upper or lower case.
//	md S                  S with a backslash before each Markdown special
//	                      character, so that it shows as typed.
//
// No function runs commands, reads files (beyond the system's zone database
// for inZone) or reaches the network.
//
// # Options
//
// Options.Location is the zone dates are shown in; nil means time.Local, the
// zone of the machine, which is what a sysadmin reading the report expects.
// Tests set it to time.UTC for stable output.
//
// # Example
//
// A text template that lists the ten worst offenders:
//
//	Bans on {{.Host}} since {{date "Jan 2 15:04" .From}}
//	{{range first 10 .Offenders -}}
//	{{padRight 40 .IP}}{{padLeft 5 .Bans}}  {{join "," .Jails}}
//	{{end -}}
//	{{if gt (count .Offenders) 10}}… and {{sub (count .Offenders) 10}} more{{end}}
package templates
