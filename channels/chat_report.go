package channels

import "strings"

// chatReport is the default report of the chat channels whose markup is
// just bold text and lines (Slack's mrkdwn, Teams' card text): one template,
// written with «B» where bold starts and ends and «I» for the indentation
// of an offender's details, turned into each platform's markup. Every value
// the template prints is escaped by the channel's dialect, not here.
func chatReport(comment, bold, indent string) string {
	return "{{- /* " + comment + " */ -}}\n" + strings.NewReplacer("«B»", bold, "«I»", indent).Replace(chatReportSource)
}

const chatReportSource = `«B»Fail2Ban report for {{truncate 200 .Host}}«B»{{if gt .Notes.Pages 1}} (part {{.Notes.Page}} of {{.Notes.Pages}}){{end}}
{{- if not .From.IsZero}}
{{date "2006-01-02 15:04 MST" .From}} – {{date "2006-01-02 15:04 MST" .To}}
{{- end}}

{{if eq .Totals.Bans 0 -}}
No bans in this period.
{{- if .Totals.Restored}} ({{.Totals.Restored}} {{plural .Totals.Restored "ban was" "bans were"}} restored by fail2ban at restart, not counted.){{end}}
{{- else -}}
«B»{{.Totals.Bans}}«B» {{plural .Totals.Bans "ban" "bans"}} · «B»{{.Totals.IPs}}«B» {{plural .Totals.IPs "address" "addresses"}}{{if .Totals.IPv6}} ({{.Totals.IPv6}} IPv6){{end}} · «B»{{.Totals.Failures}}«B» {{plural .Totals.Failures "failure" "failures"}} · «B»{{.Totals.Jails}}«B» {{plural .Totals.Jails "jail" "jails"}} · «B»{{.Totals.Unbans}}«B» {{plural .Totals.Unbans "unban" "unbans"}}
{{- if .Totals.Restored}}; {{.Totals.Restored}} restored at restart, not counted{{end}}
{{- if .Totals.Duplicate}}; {{.Totals.Duplicate}} recorded twice, counted once{{end}}
{{- end}}
{{- if .Jails}}

«B»Jails«B»
{{- range .Jails}}
• {{truncate 100 .Name}}: {{.Bans}} {{plural .Bans "ban" "bans"}}, {{.IPs}} {{plural .IPs "address" "addresses"}}, {{.Failures}} {{plural .Failures "failure" "failures"}}{{if .Unbans}}, {{.Unbans}} {{plural .Unbans "unban" "unbans"}}{{end}}
{{- end}}
{{- end}}
{{- if .Offenders}}

«B»Top offenders«B»
{{- range .Offenders}}
• «B»{{.IP}}«B» ({{truncate 200 (join ", " .Jails)}}): {{.Bans}} {{plural .Bans "ban" "bans"}}, {{.Failures}} {{plural .Failures "failure" "failures"}}, {{date "Jan 02 15:04" .FirstSeen}} – {{date "Jan 02 15:04" .LastSeen}}
{{- if .Users}}
«I»users: {{truncate 500 (join ", " .Users)}}{{if .MoreUsers}} … and {{.MoreUsers}} more{{end}}
{{- end}}
{{- range .Matches}}
«I»log: {{truncate 300 .}}
{{- end}}
{{- if .MoreMatches}}
«I»… and {{.MoreMatches}} more log {{plural .MoreMatches "line" "lines"}}
{{- end}}
{{- end}}
{{- if .Notes.MoreOffenders}}
• … and {{.Notes.MoreOffenders}} more {{plural .Notes.MoreOffenders "offender" "offenders"}} (see notes)
{{- end}}
{{- end}}
{{- if .Unbans}}

«B»Unbans«B»
{{- range .Unbans}}
• {{.IP}} ({{truncate 200 (join ", " .Jails)}}): {{.Count}}×, last {{date "Jan 02 15:04" .Last}}
{{- end}}
{{- end}}
{{- with notes .Notes}}

«B»Notes«B»
{{- range .}}
• {{.}}
{{- end}}
{{- end}}
`
