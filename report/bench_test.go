package report_test

import (
	"fmt"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
)

// BenchmarkAggregate folds records from 10,000 addresses into a digest.
func BenchmarkAggregate(b *testing.B) {
	recs := make([]*buffer.Record, 100000)
	for i := range recs {
		k := i % 10000
		recs[i] = &buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: fmt.Sprintf("10.0.%d.%d", k>>8, k&255), Time: float64(1795600000 + i), Failures: 3, User: []string{"root", "admin", "git"}[i%3],
			Matches: []string{"Nov 24 10:00:00 vm sshd[1]: Invalid user root from 10.0.0.1 port 22", "Nov 24 10:00:00 vm sshd[1]: Connection closed by invalid user root"}}
	}
	for b.Loop() {
		bl := report.NewBuilder(report.Options{MaxOffenders: 1000})
		for _, r := range recs {
			bl.Add(r)
		}
		if d := bl.Digest(); d.Totals.IPs != 10000 {
			b.Fatal(d.Totals)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
