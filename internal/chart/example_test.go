package chart_test

import (
	"fmt"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/chart"
)

func ExampleSparkline() {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tl := chart.NewTimeline(end.Add(-24*time.Hour), end) // hourly buckets
	for h, n := range []int{0, 0, 1, 3, 8, 20, 9, 2, 0, 1} {
		tl.Add("sshd", end.Add(-24*time.Hour).Add(time.Duration(h)*time.Hour), n)
	}
	fmt.Println(tl.Step(), tl.Len())
	fmt.Println(chart.Sparkline(tl.Totals()))
	// Output:
	// 1h0m0s 25
	// ▁▁▂▃▄█▅▂▁▂▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁
}
