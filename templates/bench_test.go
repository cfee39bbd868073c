package templates_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
	"github.com/f2b-notify/f2b-notify/templates"
)

// BenchmarkRender executes every format's default report on a
// digest of 1,000 offenders, each with users and log lines.
func BenchmarkRender(b *testing.B) {
	bl := report.NewBuilder(report.Options{Host: "vm"})
	for i := range 3000 {
		k := i % 1000
		bl.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: []string{"sshd", "postfix-sasl", "dovecot"}[i%3],
			IP: fmt.Sprintf("10.0.%d.%d", k>>8, k&255), Time: float64(1795600000 + i), Failures: 3, User: "root",
			Matches: []string{"Nov 24 10:00:00 vm sshd[1]: Invalid user <root> & \"x\" from 10.0.0.1 port 22"}})
	}
	d := bl.Digest()
	for _, f := range templates.Formats() {
		src, err := templates.Default(f)
		if err != nil {
			b.Fatal(err)
		}
		tmpl, err := templates.New("default", f, src, templates.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := tmpl.Execute(io.Discard, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
