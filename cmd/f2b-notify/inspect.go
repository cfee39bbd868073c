package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

func newPreviewCmd(g *Globals) *cobra.Command {
	var channel string
	var payload bool
	cmd := &cobra.Command{
		Use:   "preview [--channel NAME] [--payload]",
		Short: "Print the report the next flush would send, per channel, without sending",
		Long: `Render, for each enabled channel (or the one named), the report that the next flush would
send it: the bans it has not received yet, pending ones included. Nothing is sent, claimed
or changed.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			lowGC()
			cfg, err := g.LoadTrusted()
			if err != nil {
				return err
			}
			targets, err := selectTargets(cfg, channel)
			if err != nil {
				return err
			}
			buf := buffer.New(cfg.Buffer.Dir, false)
			ledger, err := buf.LoadLedger()
			if err != nil {
				return err
			}
			batches, err := buf.Batches()
			if err != nil {
				return err
			}
			failed := 0
			for _, t := range targets {
				if t.Err != nil {
					fmt.Fprintf(g.IO.Out, "### %s: cannot render: %s\n", t.Name, oneLine(t.Err.Error()))
					failed++
					continue
				}
				st := ledger.Channel(t.Name)
				rest, todo := flush.Pending(t, st, batches)
				if rest != nil {
					if err := printRest(g.IO.Out, t, rest, payload); err != nil {
						fmt.Fprintf(g.IO.Out, "### %s: %s\n", t.Name, oneLine(err.Error()))
						failed++
					}
				}
				pending, err := buf.PendingPaths()
				if err != nil {
					return err
				}
				files := append(buffer.Paths(todo), pending...)
				d, err := flush.DigestFor(cfg, files, t.Config.Jails)
				if err != nil {
					return err
				}
				if err := printRendered(g.IO.Out, t, flush.ForChannel(d, st), payload); err != nil {
					fmt.Fprintf(g.IO.Out, "### %s: %s\n", t.Name, oneLine(err.Error()))
					failed++
				}
			}
			if failed > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("preview: %d channel(s) cannot render", failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel")
	cmd.Flags().BoolVar(&payload, "payload", false, "print the exact request body each channel would send (HTTP channels)")
	return cmd
}

// selectTargets prepares every enabled channel, or just the one named.
func selectTargets(cfg *config.Config, name string) ([]*render.Target, error) {
	targets, err := render.Prepare(cfg)
	if err != nil {
		return nil, err
	}
	if name == "" {
		if len(targets) == 0 {
			return nil, errors.New("no enabled channel in " + cfg.File)
		}
		return targets, nil
	}
	for _, t := range targets {
		if t.Name == name {
			return []*render.Target{t}, nil
		}
	}
	return nil, fmt.Errorf("no enabled channel %q in %s (enabled: %s)", name, cfg.File, strings.Join(cfg.EnabledChannels(), ", "))
}

// printRest writes the messages of a split report that an earlier flush
// delivered only in part and that the next flush sends first.
func printRest(w io.Writer, t *render.Target, rest *buffer.Partial, payload bool) error {
	m := channels.Message{Subject: rest.Subject, Pages: rest.Pages[rest.Sent:]}
	if payload {
		return printPayload(w, t, m)
	}
	for i, page := range m.Pages {
		fmt.Fprintf(w, "### channel %s (%s), rest of an earlier report, message %d of %d\n%s\n\n", t.Name, t.Config.Type, rest.Sent+i+1, len(rest.Pages), page)
	}
	return nil
}

// printRendered writes a channel's subject and every format of its report,
// or with payload the request body it would send.
func printRendered(w io.Writer, t *render.Target, d *report.Digest, payload bool) error {
	m, err := t.Render(d)
	if err != nil {
		return err
	}
	if payload {
		return printPayload(w, t, m)
	}
	for i, page := range m.Pages {
		fmt.Fprintf(w, "### channel %s (%s), message %d of %d\n%s\n\n", t.Name, t.Config.Type, i+1, len(m.Pages), page)
	}
	if len(m.Pages) > 0 {
		return nil
	}
	for _, f := range t.Channel.Formats() {
		fmt.Fprintf(w, "### channel %s (%s, %s)\nSubject: %s\n\n%s", t.Name, t.Config.Type, f, m.Subject, m.Bodies[f])
		if !strings.HasSuffix(m.Bodies[f], "\n") {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sampleDigest is the digest of the embedded sample, as check and demo use it.
func sampleDigest(cfg *config.Config, now time.Time) *report.Digest {
	b := report.NewBuilder(report.Options{Host: cfg.Hostname(), Generated: now, MaxUsers: cfg.Report.MaxUsers,
		MaxMatches: cfg.Report.MaxMatches, IncludeRestored: cfg.Report.IncludeRestored})
	recs := sample.Records(now)
	for _, r := range recs {
		b.Add(r)
	}
	b.AddStats(buffer.ScanStats{Records: len(recs)}, 1)
	return b.Digest()
}

func newCheckCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and render every channel's templates on sample data",
		Long: `Validate the configuration and render every channel's templates on sample data; disabled
channels are checked too, their problems shown as warnings. Every record of the GeoIP databases
(geoip.asn_db, geoip.country_db) is read, and a file that is missing or damaged is a problem. Also warns, on standard error,
when a file holding secrets is readable by other users, and when a channel sends its token,
password or secret webhook URL over plain http to another machine (loopback is fine).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := g.Load()
			if err != nil {
				return err
			}
			printWarnings(g.IO.Err, cfg)
			targets, err := render.Prepare(cfg)
			if err != nil {
				return err
			}
			// Disabled channels are checked too, so that a mistake is found
			// before the day the channel is switched on; flush skips them,
			// so their problems are warnings.
			disabled, err := render.PrepareNamed(cfg, cfg.DisabledChannels())
			if err != nil {
				return err
			}
			printPlainHTTP(g.IO.Err, cfg.File, append(slices.Clone(targets), disabled...))
			var problems []string
			if len(targets) == 0 {
				problems = append(problems, "no enabled channel: flush would refuse to run")
			}
			if err := flush.CheckGeoIP(cfg); err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					problems = append(problems, oneLine(line))
				}
			}
			d := sampleDigest(cfg, time.Now())
			for _, t := range targets {
				if err := checkTarget(t, d); err != nil {
					problems = append(problems, oneLine(err.Error()))
					continue
				}
				fmt.Fprintf(g.IO.Out, "ok: channel %s (%s): %s\n", t.Name, t.Config.Type, formats(t))
			}
			for _, t := range disabled {
				if err := checkTarget(t, d); err != nil {
					fmt.Fprintf(g.IO.Err, "%s: warning: %s (the channel is disabled: flush skips it)\n", cfg.File, oneLine(err.Error()))
					continue
				}
				fmt.Fprintf(g.IO.Out, "ok: channel %s (%s, disabled): %s\n", t.Name, t.Config.Type, formats(t))
			}
			if err := checkWritable(cfg.Buffer.Dir); err != nil {
				problems = append(problems, err.Error())
			}
			if err := warnStrays(g.IO.Err, cfg.File+": warning: ", cfg.Buffer.Dir); err != nil {
				problems = append(problems, oneLine(err.Error()))
			}
			if err := cfg.Unsafe(); err != nil {
				problems = append(problems, err.Error())
			}
			flagProblems, flagWarnings := checkFlag(cfg)
			problems = append(problems, flagProblems...)
			for _, w := range flagWarnings {
				fmt.Fprintf(g.IO.Err, "%s: warning: %s\n", cfg.File, w)
			}
			for _, p := range problems {
				fmt.Fprintln(g.IO.Err, cfg.File+": "+p)
			}
			if len(problems) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("check: %d problem(s) in %s", len(problems), cfg.File)}
			}
			fmt.Fprintf(g.IO.Out, "%s: ok\n", cfg.File)
			return nil
		},
	}
}

// printPlainHTTP warns, one line each, about the channels that send their
// credential over plain http to a host other than this machine.
func printPlainHTTP(w io.Writer, file string, targets []*render.Target) {
	for _, t := range targets {
		if t.Err != nil {
			continue
		}
		for _, host := range channels.PlainHTTPHosts(t.Channel) {
			fmt.Fprintf(w, "%s: warning: channel %s sends its token over plain http to %s; use https\n", file, t.Name, host)
		}
	}
}

// checkTarget reports what stops a channel from sending: its settings, its
// templates, or rendering them on the sample digest.
func checkTarget(t *render.Target, d *report.Digest) error {
	if t.Err != nil {
		return t.Err
	}
	_, err := t.Render(d)
	return err
}

func formats(t *render.Target) string {
	var fs []string
	for _, f := range t.Channel.Formats() {
		fs = append(fs, string(f))
	}
	return strings.Join(fs, ", ")
}

// checkWritable tells whether bans can be stored in dir (or dir can be made).
func checkWritable(dir string) error {
	for d := dir; ; {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("key buffer.dir: %s is not a folder", d)
			}
			f, err := os.CreateTemp(d, ".check-*")
			if err != nil {
				return fmt.Errorf("key buffer.dir: cannot write in %s: %w", d, err)
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		parent := d[:max(strings.LastIndex(d, "/"), 1)]
		if parent == d {
			return fmt.Errorf("key buffer.dir: %w", err)
		}
		d = parent
	}
}

// checkFlag looks at the flag file's path: a folder or a link there, or a
// missing folder, are problems (no ban would ever start a flush, or each
// would); a folder where other users can create the flag is a warning.
func checkFlag(cfg *config.Config) (problems, warnings []string) {
	if cfg.Flag == "" {
		return nil, nil
	}
	f := buffer.New(cfg.Buffer.Dir, false).Flag(cfg.Flag)
	switch f.State {
	case buffer.FlagNotFile:
		problems = append(problems, fmt.Sprintf("key flag: %s is %s, not a file: bans ignore it and no flush removes it; remove it, or set flag to a file path", cfg.Flag, fsguard.Kind(f.Info.Mode())))
	case buffer.FlagStuck:
		problems = append(problems, fmt.Sprintf("key flag: %s: %s", cfg.Flag, f.Describe()))
	}
	dir := filepath.Dir(cfg.Flag)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return append(problems, fmt.Sprintf("key flag: the folder of %s: %s, so no flag can be created there; create it, or set flag to a path in an existing folder (\"\" turns the flag off)", cfg.Flag, oneLine(err.Error()))), warnings
	case !st.IsDir():
		return append(problems, fmt.Sprintf("key flag: %s is %s, not a folder, so no flag can be created in it", dir, fsguard.Kind(st.Mode()))), warnings
	}
	if w := fsguard.OpenWritable(dir); w != "" {
		warnings = append(warnings, fmt.Sprintf("key flag: the flag's folder %s is %s: any user there can create %s and send reports at will; chmod go-w %s (or chmod +t)", dir, w, filepath.Base(cfg.Flag), dir))
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		warnings = append(warnings, fmt.Sprintf("key flag: the flush cannot remove the flag from %s: %v", dir, err))
	}
	return problems, warnings
}

func newStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show pending bans, spooled batches and each channel's delivery state",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := g.Load()
			if err != nil {
				return err
			}
			buf := buffer.New(cfg.Buffer.Dir, false)
			paths, err := buf.PendingPaths()
			if err != nil {
				return err
			}
			var pending buffer.ScanStats
			for _, p := range paths {
				st, err := buffer.ScanFile(p, func(*buffer.Record) error { return nil })
				if err != nil {
					return err
				}
				pending.Add(st)
			}
			batches, err := buf.Batches()
			if err != nil {
				return err
			}
			ledger, err := buf.LoadLedger()
			if err != nil {
				return err
			}
			// The stored errors were made safe when they were written; a
			// ledger of an older version, or a secret configured since, is
			// covered here.
			red := channels.NewRedactor(cfg.Secrets())
			w := g.IO.Out
			fmt.Fprintf(w, "buffer: %s\npending: %d records", cfg.Buffer.Dir, pending.Records)
			if own := len(paths) - 1; own > 0 {
				fmt.Fprintf(w, " (%d in files of their own: bans that found the buffer lock busy)", own)
			}
			if pending.Torn > 0 {
				fmt.Fprintf(w, " (%d damaged lines)", pending.Torn)
			}
			fmt.Fprintf(w, "\nbatches: %d\n", len(batches))
			if err := warnStrays(w, "", cfg.Buffer.Dir); err != nil {
				return err
			}
			if cfg.Flag == "" {
				fmt.Fprintln(w, "flag: none (turned off)")
			} else {
				fmt.Fprintf(w, "flag: %s (%s)\n", cfg.Flag, buf.Flag(cfg.Flag).Describe())
			}
			if err := cfg.Unsafe(); err != nil {
				fmt.Fprintf(w, "unsafe: %s; flush, test and preview refuse to run\n", oneLine(err.Error()))
			}
			names := slices.Sorted(maps.Keys(cfg.Channels))
			for _, n := range names {
				st := ledger.Channel(n)
				waiting := 0
				for _, b := range batches {
					if !st.Has(b.ID) {
						waiting++
					}
				}
				state := "enabled"
				if !cfg.Channels[n].IsEnabled() {
					state = "disabled"
				}
				fmt.Fprintf(w, "channel %s (%s, %s): %d batches waiting", n, cfg.Channels[n].Type, state, waiting)
				if !st.LastSuccess.IsZero() {
					fmt.Fprintf(w, ", last delivery %s", st.LastSuccess.Format(time.RFC3339))
				}
				if st.Missed > 0 {
					fmt.Fprintf(w, ", %d missed reports, last error: %s", st.Missed, red.String(st.LastError))
				}
				if st.Dropped > 0 {
					fmt.Fprintf(w, ", %d records dropped by retention", st.Dropped)
				}
				if p := st.Partial; p != nil && p.Sent < len(p.Pages) {
					fmt.Fprintf(w, ", a split report cut off after message %d of %d (the next flush sends the rest first)", p.Sent, len(p.Pages))
				}
				fmt.Fprintln(w)
			}
			return nil
		},
	}
}

// warnStrays names, one line each after prefix, the configuration files
// whose bans were stored in the buffer at dir because the file could not be
// read (buffer.Record.Config): those bans are reported here, not in that
// file's own report.
func warnStrays(w io.Writer, prefix, dir string) error {
	buf := buffer.New(dir, false)
	batches, err := buf.Batches()
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, f := range append(buffer.Paths(batches), buf.PendingPath()) {
		_, err := buffer.ScanFileWith(f, buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, _ int64, _ int) error {
			if r.Config != "" {
				count[r.Config]++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, c := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintln(w, prefix+report.Stray{Config: report.Neutralise(c), Records: count[c]}.Sentence("in "+dir))
	}
	return nil
}

// printPayload writes the request body (or bodies) t would send for m.
func printPayload(w io.Writer, t *render.Target, m channels.Message) error {
	p, ok := t.Channel.(channels.Payloader)
	if !ok {
		return fmt.Errorf("channel %q (%s) has no request body to show; preview without --payload shows its message", t.Name, t.Config.Type)
	}
	body, err := p.Payload(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "### channel %s (%s) payload\n%s\n\n", t.Name, t.Config.Type, body)
	return nil
}
