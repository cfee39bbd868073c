package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"slices"
	"testing"
	"time"
)

var noon = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestStepFor(t *testing.T) {
	tests := []struct {
		period time.Duration
		want   time.Duration
	}{
		{0, time.Minute},
		{30 * time.Minute, time.Minute},
		{time.Hour, 5 * time.Minute},
		{6 * time.Hour, 10 * time.Minute},
		{24 * time.Hour, time.Hour},
		{36 * time.Hour, time.Hour},
		{37 * time.Hour, 2 * time.Hour},
		{7 * 24 * time.Hour, 6 * time.Hour},
		{30 * 24 * time.Hour, 24 * time.Hour},
		{90 * 24 * time.Hour, 7 * 24 * time.Hour},
		{10 * 365 * 24 * time.Hour, 28 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := StepFor(tt.period); got != tt.want {
			t.Errorf("StepFor(%v) = %v, want %v", tt.period, got, tt.want)
		}
	}
}

func TestTimeline(t *testing.T) {
	from := noon.Add(-24 * time.Hour).Add(17 * time.Minute) // 12:17 the day before
	tl := NewTimeline(from, noon)
	if tl.Step() != time.Hour || tl.Len() != 25 || !tl.Bucket(0).Equal(noon.Add(-24*time.Hour)) {
		t.Fatalf("step %v, %d buckets from %v; want 1h, 25 from 12:00 the day before", tl.Step(), tl.Len(), tl.Bucket(0))
	}
	adds := []struct {
		jail string
		at   time.Time
		n    int
		in   bool
	}{
		{"sshd", from, 2, true},
		{"sshd", noon, 1, true},
		{"sshd", noon.Add(-90 * time.Minute), 3, true},
		{"nginx", noon.Add(-90 * time.Minute), 1, true},
		{"nginx", noon.Add(time.Hour), 1, false},
		{"nginx", from.Add(-time.Hour), 1, false},
	}
	for _, a := range adds {
		if got := tl.Add(a.jail, a.at, a.n); got != a.in {
			t.Errorf("Add(%s, %v) = %v, want %v", a.jail, a.at, got, a.in)
		}
	}
	want := make([]int, 25)
	want[0], want[22], want[24] = 2, 4, 1
	if got := tl.Totals(); !slices.Equal(got, want) {
		t.Errorf("Totals() = %v, want %v", got, want)
	}
	s := tl.Series(0)
	if len(s) != 2 || s[0].Name != "sshd" || s[0].Total() != 6 || s[1].Name != "nginx" || s[1].Total() != 1 {
		t.Errorf("Series(0) = %v, want sshd (6) then nginx (1)", s)
	}
	if l := tl.Labels(); l[0] != "12:00" || l[24] != "12:00" || l[1] != "13:00" {
		t.Errorf("Labels() = %v", l)
	}
}

func TestTimelineDays(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	to := time.Date(2026, 3, 31, 10, 0, 0, 0, loc)
	tl := NewTimeline(to.AddDate(0, 0, -30), to)
	if tl.Step() != 24*time.Hour || !tl.Bucket(0).Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, loc)) || tl.Len() != 31 {
		t.Fatalf("step %v, %d buckets from %v; want 1 day, 31 from midnight of March 1 in UTC+2", tl.Step(), tl.Len(), tl.Bucket(0))
	}
	tl.Add("sshd", time.Date(2026, 3, 2, 23, 59, 0, 0, loc), 1)
	tl.Add("sshd", time.Date(2026, 3, 3, 0, 0, 0, 0, loc), 1)
	if got := tl.Totals()[1:3]; !slices.Equal(got, []int{1, 1}) {
		t.Errorf("March 2 and 3: %v, want 1 each", got)
	}
	if l := tl.Labels(); l[0] != "Mar 1" || l[30] != "Mar 31" {
		t.Errorf("Labels() = %v", l)
	}
}

func TestLabelsWeek(t *testing.T) {
	tl := NewTimeline(noon.AddDate(0, 0, -7), noon)
	if l := tl.Labels(); tl.Step() != 6*time.Hour || l[0] != "Sun 12:00" || l[1] != "Sun 18:00" || l[len(l)-1] != "Sun 12:00" {
		t.Errorf("step %v, labels %v; want 6h, from Sun 12:00", tl.Step(), l)
	}
}

func TestSeriesOther(t *testing.T) {
	tl := NewTimeline(noon.Add(-time.Hour), noon)
	for i := range 10 {
		tl.Add(fmt.Sprintf("jail%d", i), noon, 10-i) // jail0 the most
	}
	s := tl.Series(4)
	var names []string
	for _, x := range s {
		names = append(names, fmt.Sprintf("%s=%d", x.Name, x.Total()))
	}
	if want := []string{"jail0=10", "jail1=9", "jail2=8", "other jails=28"}; !slices.Equal(names, want) {
		t.Errorf("Series(4) = %v, want %v", names, want)
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		counts []int
		want   string
	}{
		{nil, ""},
		{[]int{0, 0, 0}, "▁▁▁"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, "▁▂▃▄▅▆▇█"},
		{[]int{1, 100, 50, 0, -3}, "▂█▅▁▁"},
		{[]int{7}, "█"},
	}
	for _, tt := range tests {
		if got := Sparkline(tt.counts); got != tt.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}

func TestPNG(t *testing.T) {
	tl := NewTimeline(noon.Add(-24*time.Hour), noon)
	for h := range 24 {
		tl.Add("sshd", noon.Add(-time.Duration(h)*time.Hour), 5+h%7)
		if h%3 == 0 {
			tl.Add("nginx-http-auth", noon.Add(-time.Duration(h)*time.Hour), 3)
		}
	}
	const w, h = 640, 320
	b, err := PNG(tl, w, h)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CHART_OUT") != "" {
		os.WriteFile(os.Getenv("CHART_OUT"), b, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(w, h) {
		t.Errorf("size %v, want %dx%d", got, w, h)
	}
	// Each jail's colour fills a good number of pixels: the bars are drawn.
	for i, name := range []string{"sshd", "nginx-http-auth"} {
		if n := count(img, Colors[i]); n < 500 {
			t.Errorf("%s's colour %v covers %d pixels, want its bars", name, Colors[i], n)
		}
	}
	if n := count(img, Colors[2]); n != 0 {
		t.Errorf("a third colour covers %d pixels, with two jails", n)
	}
	again, err := PNG(tl, w, h)
	if err != nil || !bytes.Equal(b, again) {
		t.Errorf("the same timeline drew other bytes (%v)", err)
	}
}

func TestPNGHour(t *testing.T) {
	tl := NewTimeline(noon.Add(-time.Hour), noon)
	for m := range 60 {
		tl.Add([]string{"sshd", "postfix", "dovecot"}[m%3], noon.Add(-time.Duration(m)*time.Minute), 1+m%4)
	}
	b, err := PNG(tl, 400, 240)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CHART_OUT") != "" {
		os.WriteFile(os.Getenv("CHART_OUT")+".hour.png", b, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if n := count(img, Colors[i]); n < 200 {
			t.Errorf("jail %d's colour covers %d pixels, want its bars", i, n)
		}
	}
}

func TestPNGEmptyAndBadSize(t *testing.T) {
	tl := NewTimeline(noon.Add(-time.Hour), noon)
	b, err := PNG(tl, 300, 200)
	if err != nil {
		t.Fatalf("no bans: %v", err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("no bans: the PNG does not decode: %v", err)
	}
	for _, s := range [][2]int{{0, 200}, {300, 10}, {5000, 300}} {
		if _, err := PNG(tl, s[0], s[1]); err == nil {
			t.Errorf("PNG(%d×%d): no error", s[0], s[1])
		}
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct{ top, step, ticks int }{
		{0, 1, 1}, {1, 1, 1}, {4, 1, 4}, {5, 1, 5}, {6, 2, 3}, {14, 5, 3}, {51, 20, 3}, {100, 20, 5}, {101, 50, 3}, {999_999, 200_000, 5},
	}
	for _, tt := range tests {
		if step, ticks := niceAxis(tt.top); step != tt.step || ticks != tt.ticks {
			t.Errorf("niceAxis(%d) = %d, %d; want %d, %d", tt.top, step, ticks, tt.step, tt.ticks)
		}
	}
}

func TestLegendName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"sshd", "sshd"},
		{"exactly-twenty-four-char", "exactly-twenty-four-char"},
		{"nginx-limit-req-and-some-more", "nginx-limit-req-and-som…"},
		{"ünïcödé-ünïcödé-ünïcödé-ü", "ünïcödé-ünïcödé-ünïcödé…"},
	} {
		if got := legendName(tt.in); got != tt.want {
			t.Errorf("legendName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func count(img image.Image, c color.RGBA) int {
	n := 0
	r0, g0, b0, _ := c.RGBA()
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == r0 && g == g0 && b == b0 {
				n++
			}
		}
	}
	return n
}

func BenchmarkPNG(b *testing.B) {
	tl := NewTimeline(noon.Add(-24*time.Hour), noon)
	for h := range 24 * 60 {
		tl.Add([]string{"sshd", "nginx-http-auth", "postfix", "recidive"}[h%4], noon.Add(-time.Duration(h)*time.Minute), 1+h%5)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PNG(tl, 800, 300); err != nil {
			b.Fatal(err)
		}
	}
}
