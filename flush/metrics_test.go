package flush_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/f2b-notify/f2b-notify/flush"
)

// readMetrics parses the textfile with the Prometheus text parser, as
// node_exporter does.
func readMetrics(t *testing.T, name string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return fams
}

// value is the value of the sample of family name whose label key is val
// ("" for a family without labels); ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name, key, val string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		match := key == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == key && l.GetValue() == val {
				match = true
			}
		}
		if !match {
			continue
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue(), true
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func TestMetricsTextfile(t *testing.T) {
	e := newEnv(t)
	e.cfg.Metrics.Textfile = filepath.Join(t.TempDir(), "f2b-notify.prom")
	good, bad := &memChannel{name: "good"}, &memChannel{name: "bad"}
	bad.setFail(errors.New("down"))
	tg := targets(t, good, bad)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	e.ban(t, "192.0.2.1", 1)
	e.ban(t, "192.0.2.2", 2)
	e.run(t, tg, flush.Options{Now: now})
	e.ban(t, "192.0.2.3", 3)
	res := e.run(t, tg, flush.Options{Now: now.Add(time.Hour)})
	if res.Metrics != nil {
		t.Fatalf("metrics: %v", res.Metrics)
	}
	e.ban(t, "192.0.2.4", 4) // pending after the last flush

	fams := readMetrics(t, e.cfg.Metrics.Textfile)
	want := []struct {
		name, key, val string
		v              float64
	}{
		{"f2b_notify_reports_sent_total", "channel", "good", 2},
		{"f2b_notify_reports_sent_total", "channel", "bad", 0},
		{"f2b_notify_reports_failed_total", "channel", "bad", 2},
		{"f2b_notify_reports_failed_total", "channel", "good", 0},
		{"f2b_notify_last_success_timestamp_seconds", "channel", "good", float64(now.Add(time.Hour).Unix())},
		{"f2b_notify_last_report_bans", "jail", "sshd", 1},
		{"f2b_notify_spool_batches", "", "", 2}, // kept for bad
		{"f2b_notify_retention_dropped_total", "", "", 0},
		{"f2b_notify_last_flush_timestamp_seconds", "", "", float64(now.Add(time.Hour).Unix())},
	}
	for _, w := range want {
		if v, ok := value(fams, w.name, w.key, w.val); !ok || v != w.v {
			t.Errorf("%s{%s=%q} = %v (present %v), want %v", w.name, w.key, w.val, v, ok, w.v)
		}
	}
	if _, ok := value(fams, "f2b_notify_last_success_timestamp_seconds", "channel", "bad"); ok {
		t.Error("a last success for a channel that never had one")
	}
	if v, _ := value(fams, "f2b_notify_spool_bytes", "", ""); v <= 0 {
		t.Errorf("spool bytes %v, want > 0", v)
	}
	if _, ok := value(fams, "f2b_notify_flush_duration_seconds", "", ""); !ok {
		t.Error("no flush duration")
	}
	if got := fams["f2b_notify_reports_sent_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("reports_sent_total is a %v", got)
	}
	// The ban after the flush is not in the file until the next flush.
	if v, _ := value(fams, "f2b_notify_pending_records", "", ""); v != 0 {
		t.Errorf("pending records %v, want 0", v)
	}
	st, err := os.Stat(e.cfg.Metrics.Textfile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v: node_exporter, which seldom runs as root, could not read it", st.Mode())
	}
}

// A metrics file that cannot be written is a warning: the report is sent
// and confirmed all the same, and a symbolic link at the path is replaced,
// never written through.
func TestMetricsFailureIsNoFailedFlush(t *testing.T) {
	e := newEnv(t)
	e.cfg.Metrics.Textfile = filepath.Join(t.TempDir(), "missing", "f2b-notify.prom")
	good := &memChannel{name: "good"}
	e.ban(t, "192.0.2.1", 1)
	res := e.run(t, targets(t, good), flush.Options{})
	if res.Metrics == nil {
		t.Fatal("no metrics error for a file in a missing folder")
	}
	if len(res.Failed()) > 0 || len(good.received()) != 1 {
		t.Fatalf("failed %v, received %d", res.Failed(), len(good.received()))
	}
	if bs, _ := e.buf.Batches(); len(bs) != 0 {
		t.Fatalf("%d batches kept", len(bs))
	}

	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.Metrics.Textfile = filepath.Join(dir, "f2b-notify.prom")
	if err := os.Symlink(victim, e.cfg.Metrics.Textfile); err != nil {
		t.Fatal(err)
	}
	if res := e.run(t, targets(t, good), flush.Options{}); res.Metrics != nil {
		t.Fatal(res.Metrics)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Fatalf("written through the link: %q", b)
	}
	readMetrics(t, e.cfg.Metrics.Textfile)
}
