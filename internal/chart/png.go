package chart

import (
	"fmt"
	"image/color"
	"strconv"

	"github.com/go-analyze/charts"
)

// Colors are the series' colours, in the order of Timeline.Series: the
// Okabe-Ito palette, told apart by colour-blind readers too. A chart has at
// most len(Colors) series.
var Colors = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x9E, 0x73, 0xFF}, // green
	{0xCC, 0x79, 0xA7, 0xFF}, // pink
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermilion
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	{0x99, 0x99, 0x99, 0xFF}, // grey: OtherJails when there are that many
}

// Size bounds of PNG, in pixels.
const (
	MinSize = 200
	MaxSize = 4000
)

// PNG draws the bans of tl as stacked bars per bucket, one colour per jail
// (Timeline.Series(len(Colors))), with a legend of the jails' names (cut to
// MaxLegendName characters), on a
// white background of w × h pixels. The same Timeline gives the same bytes.
func PNG(tl *Timeline, w, h int) ([]byte, error) {
	if w < MinSize || h < MinSize || w > MaxSize || h > MaxSize {
		return nil, fmt.Errorf("draw a chart of %d×%d pixels: want %d to %d each way", w, h, MinSize, MaxSize)
	}
	series := tl.Series(len(Colors))
	if len(series) == 0 { // no bans: draw an empty chart, not an error
		series = []Series{{Name: "no bans", Counts: make([]int, tl.Len())}}
	}
	values := make([][]float64, len(series))
	names := make([]string, len(series))
	colors := make([]charts.Color, len(series))
	top := 0
	for i, s := range series {
		names[i] = legendName(s.Name)
		c := Colors[i]
		colors[i] = charts.Color{R: c.R, G: c.G, B: c.B, A: c.A}
		values[i] = make([]float64, len(s.Counts))
		for j, n := range s.Counts {
			values[i][j] = float64(n)
		}
	}
	for _, t := range tl.Totals() {
		top = max(top, t)
	}

	opt := charts.NewBarChartOptionWithData(values)
	opt.Theme = charts.GetTheme(charts.ThemeLight).WithSeriesColors(colors).WithBackgroundColor(charts.ColorWhite)
	opt.StackSeries = charts.Ptr(true)
	opt.Padding = charts.Box{Top: 10, Right: 20, Bottom: 10, Left: 10}
	// A label under every k-th bar: labels left blank are drawn as nothing.
	labels := tl.Labels()
	room := 8*len(labels[0]) + 30 // pixels a label needs, with a gap
	every := (len(labels)*room + w - 1) / w
	for i := range labels {
		// The chart draws the last label flush right, where it would run
		// into the one before: leave it out when some are left out.
		if i%every != 0 || every > 1 && i == len(labels)-1 {
			labels[i] = ""
		}
	}
	opt.CategoryAxis.Labels = labels
	opt.CategoryAxis.LabelCount = len(labels)
	yStep, yTicks := niceAxis(top)
	opt.ValueAxis[0].Min = charts.Ptr(0.0)
	opt.ValueAxis[0].Max = charts.Ptr(float64(yStep * yTicks))
	opt.ValueAxis[0].LabelCount = yTicks + 1
	opt.ValueFormatter = func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) }
	opt.Legend = charts.LegendOption{SeriesNames: names, Offset: charts.OffsetCenter}

	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputPNG, Width: w, Height: h})
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("draw the chart of bans: %w", err)
	}
	b, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode the chart of bans as PNG: %w", err)
	}
	return b, nil
}

// niceAxis returns a step of 1, 2 or 5 times a power of ten and a number of
// steps (at most 5) whose product is top or just above it: an axis that
// reads 0, 20, 40, 60 rather than 0, 17, 34, 51.
func niceAxis(top int) (step, ticks int) {
	top = max(top, 1)
	for pow := 1; ; pow *= 10 {
		for _, m := range []int{1, 2, 5} {
			step = m * pow
			if ticks = (top + step - 1) / step; ticks <= 5 {
				return step, ticks
			}
		}
	}
}

// MaxLegendName is the most characters of a jail's name the legend shows;
// a longer name is cut with "…" so that the legend keeps its columns.
const MaxLegendName = 24

func legendName(name string) string {
	r := []rune(name)
	if len(r) <= MaxLegendName {
		return name
	}
	return string(r[:MaxLegendName-1]) + "…"
}
