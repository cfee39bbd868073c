package report_test

import (
	"fmt"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/history"
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

// BenchmarkDigestWide builds the digest of 200,000 addresses in as many
// networks, with a history, as a flush under a wide attack does: the time
// and the allocations are the digest's alone (the rollup of networks and
// the addresses kept for the history), not the adding.
func BenchmarkDigestWide(b *testing.B) {
	const n = 200_000
	recs := make([]*buffer.Record, n)
	for i := range recs {
		ip := fmt.Sprintf("%d.%d.%d.1", 10+i>>16, i>>8&255, i&255)
		if i%4 == 3 {
			ip = fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff)
		}
		recs[i] = &buffer.Record{V: 1, Action: "ban", Jail: []string{"sshd", "nginx", "recidive"}[i%3], IP: ip, Time: float64(1795600000 + i), Failures: 3}
	}
	for b.Loop() {
		b.StopTimer()
		bl := report.NewBuilder(report.Options{MaxOffenders: 1000, History: &history.History{}})
		for _, r := range recs {
			bl.Add(r)
		}
		b.StartTimer()
		if d := bl.Digest(); d.Totals.Networks != n {
			b.Fatal(d.Totals)
		}
	}
}
