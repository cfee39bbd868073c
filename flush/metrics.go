package flush

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// writeMetrics replaces the metrics file (metrics.textfile) with what this
// flush leaves: node_exporter's textfile collector reads it. The counters
// come from the ledger, which keeps them across flushes; the rest is
// measured now. took is how long the flush ran.
func (f *flusher) writeMetrics(took time.Duration) error {
	name := f.cfg.Metrics.Textfile
	if name == "" || f.ledger == nil {
		return nil
	}
	chans, dropped, lastReport := f.ledger.snapshot()
	pending, _, err := f.buf.Pending()
	if err != nil {
		return fmt.Errorf("key metrics.textfile: %s: %w", name, err)
	}
	batches, err := f.buf.Batches()
	if err != nil {
		return fmt.Errorf("key metrics.textfile: %s: %w", name, err)
	}
	var spool int64
	for _, b := range batches {
		spool += b.Size
	}

	sent := family("f2b_notify_reports_sent_total", "Reports delivered to the channel.", dto.MetricType_COUNTER)
	failed := family("f2b_notify_reports_failed_total", "Reports the channel missed (its bans are kept for the next flush).", dto.MetricType_COUNTER)
	success := family("f2b_notify_last_success_timestamp_seconds", "When the channel last received a report, in seconds since the epoch.", dto.MetricType_GAUGE)
	for _, t := range f.targets {
		st := chans[t.Name]
		add(sent, float64(st.Sent), "channel", t.Name)
		add(failed, float64(st.Failed), "channel", t.Name)
		if !st.LastSuccess.IsZero() {
			add(success, seconds(st.LastSuccess), "channel", t.Name)
		}
	}
	bans := family("f2b_notify_last_report_bans", "Bans per jail in the largest report of the last flush that sent one.", dto.MetricType_GAUGE)
	for _, j := range slices.Sorted(maps.Keys(lastReport)) {
		add(bans, float64(lastReport[j]), "jail", j)
	}
	fams := []*dto.MetricFamily{
		sent, failed, success, bans,
		gauge("f2b_notify_pending_records", "Bans waiting to be claimed by the next flush.", float64(pending.Records)),
		gauge("f2b_notify_spool_batches", "Batches in the spool that some channel has not received.", float64(len(batches))),
		gauge("f2b_notify_spool_bytes", "Size of the spool's batches in bytes.", float64(spool)),
		counter("f2b_notify_retention_dropped_total", "Records deleted by retention (buffer.max_age, buffer.max_size_mb) before every channel had them.", float64(dropped)),
		gauge("f2b_notify_flush_duration_seconds", "How long the last flush took.", took.Seconds()),
		gauge("f2b_notify_last_flush_timestamp_seconds", "When the last flush ran, in seconds since the epoch.", seconds(f.now)),
	}
	var out bytes.Buffer
	for _, fam := range fams {
		if len(fam.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&out, fam); err != nil {
			return fmt.Errorf("key metrics.textfile: %s: %w", name, err)
		}
	}
	// Readable by node_exporter, which seldom runs as root; it holds no secret.
	if err := fsguard.WriteFileAtomic(name, out.Bytes(), 0o644, false); err != nil {
		return fmt.Errorf("key metrics.textfile: %w", err)
	}
	return nil
}

func family(name, help string, typ dto.MetricType) *dto.MetricFamily {
	return &dto.MetricFamily{Name: &name, Help: &help, Type: &typ}
}

func gauge(name, help string, v float64) *dto.MetricFamily {
	f := family(name, help, dto.MetricType_GAUGE)
	add(f, v)
	return f
}

func counter(name, help string, v float64) *dto.MetricFamily {
	f := family(name, help, dto.MetricType_COUNTER)
	add(f, v)
	return f
}

// add appends to f a sample of value v with its labels (name, value pairs),
// a counter or a gauge as f is.
func add(f *dto.MetricFamily, v float64, labels ...string) {
	m := &dto.Metric{}
	if f.GetType() == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: &v}
	} else {
		m.Gauge = &dto.Gauge{Value: &v}
	}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: &labels[i], Value: &labels[i+1]})
	}
	f.Metric = append(f.Metric, m)
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
