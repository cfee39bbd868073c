package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// PreviewOptions are the arguments of `preview`.
type PreviewOptions struct {
	*Globals
	Channel string // only this channel; "" for every enabled one
	Payload bool   // the exact request body, message or file text each channel would be sent
	// Attachments, when set, is a folder where the files that would go
	// with each report (the chart, the full list) are written, as
	// CHANNEL-NAME.
	Attachments string
}

func newPreviewCmd(g *Globals) *cobra.Command {
	o := &PreviewOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "preview [--channel NAME] [--payload] [--attachments DIR]",
		Short: "Print the report the next flush would send, per channel, without sending",
		Long: `Render, for each enabled channel (or the one named), the report that the next flush would
send it: the bans it has not received yet, pending ones included. Nothing is sent, claimed
or changed. The files that would go with each report (the chart of bans, the full list of
offenders when the channel's size limit cuts rows) are listed after it; --attachments DIR
writes them there as CHANNEL-FILE, to look at.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return previewRun(o) },
	}
	cmd.Flags().StringVar(&o.Channel, "channel", "", "only this channel")
	cmd.Flags().StringVar(&o.Attachments, "attachments", "", "write the files that would go with each report into this folder (created if missing)")
	cmd.Flags().BoolVar(&o.Payload, "payload", false, "print exactly what each channel would be sent: the request body (HTTP channels), the e-mail message (sendmail, smtp), the text appended (file)")
	return cmd
}

func previewRun(o *PreviewOptions) error {
	lowGC()
	cfg, targets, err := o.trustedTargets(o.Channel)
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
	f2b := sync.OnceValue(func() *report.Fail2ban { return flush.Fail2ban(cfg) })
	failed := 0
	for _, t := range targets {
		if t.Err != nil {
			fmt.Fprintf(o.IO.Out, "### %s: cannot render: %s\n", t.Name, oneLine(t.Err.Error()))
			failed++
			continue
		}
		st := ledger.Channel(t.Name)
		rest, todo := flush.Pending(t, st, batches)
		if rest != nil {
			if err := printRest(o.IO.Out, t, rest, o.Payload); err != nil {
				fmt.Fprintf(o.IO.Out, "### %s: %s\n", t.Name, oneLine(err.Error()))
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
		d = flush.ForChannel(d, t, st)
		if q, none := flush.AsEmpty(t, d, f2b()); none && rest == nil && cfg.Report.SendEmpty {
			d = q // what report.send_empty sends when there is no ban
		}
		if err := printRendered(o.IO.Out, t, d, o.Payload, o.Attachments); err != nil {
			fmt.Fprintf(o.IO.Out, "### %s: %s\n", t.Name, oneLine(err.Error()))
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: exitFail, msg: "preview: " + textutil.Count(failed, "channel", "channels") + " cannot render"}
	}
	return nil
}

// trustedTargets reads the configuration, refused if other users could
// change it (LoadTrusted), and prepares every enabled channel, or the one
// named: what the commands that render or send to channels start from.
func (g *Globals) trustedTargets(name string) (*config.Config, []*render.Target, error) {
	cfg, err := g.LoadTrusted()
	if err != nil {
		return nil, nil, err
	}
	targets, err := selectTargets(cfg, name)
	return cfg, targets, err
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
// or with payload the request body it would send, then the attachments
// that go with it, each written into the folder dir unless dir is "".
func printRendered(w io.Writer, t *render.Target, d *report.Digest, payload bool, dir string) error {
	m, err := t.Render(d)
	if err != nil {
		return err
	}
	if payload {
		if err := printPayload(w, t, m); err != nil {
			return err
		}
	} else {
		printBodies(w, t, m)
	}
	return saveAttachments(w, t.Name, m.Attachments, dir)
}

// printBodies writes the pages of a split report, or the subject and every
// format of a whole one.
func printBodies(w io.Writer, t *render.Target, m channels.Message) {
	for i, page := range m.Pages {
		fmt.Fprintf(w, "### channel %s (%s), message %d of %d\n%s\n\n", t.Name, t.Config.Type, i+1, len(m.Pages), page)
	}
	if len(m.Pages) > 0 {
		return
	}
	for _, f := range t.Channel.Formats() {
		fmt.Fprintf(w, "### channel %s (%s, %s)\nSubject: %s\n\n%s", t.Name, t.Config.Type, f, m.Subject, m.Bodies[f])
		if !strings.HasSuffix(m.Bodies[f], "\n") {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

// saveAttachments lists a report's attachments and, with a folder, writes
// each there as CHANNEL-NAME.
func saveAttachments(w io.Writer, channel string, as []channels.Attachment, dir string) error {
	if len(as) > 0 && dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create the folder for attachments: %w", err)
		}
	}
	for _, a := range as {
		where := ""
		if dir != "" {
			path := filepath.Join(dir, channel+"-"+a.Name)
			// Through a new file and a rename: a link planted at path in a
			// shared folder is replaced, not written through.
			if err := fsguard.WriteFileAtomic(path, a.Data, 0o600, false); err != nil {
				return fmt.Errorf("write attachment %s: %w", a.Name, err)
			}
			where = ", written to " + path
		}
		fmt.Fprintf(w, "### channel %s: attachment %s (%s, %d bytes%s): %s\n", channel, a.Name, a.Type, len(a.Data), where, a.Caption)
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

// quietSample is the report of no bans that report.send_empty sends, with
// the last bans of the embedded sample history and fail2ban running two
// jails, as check renders it.
func quietSample(cfg *config.Config, now time.Time) *report.Digest {
	b := report.NewBuilder(report.Options{Host: cfg.Hostname(), Generated: now, History: sample.History(now)})
	f2b := &report.Fail2ban{Running: true, Started: now.Add(-72 * time.Hour), Jails: []string{"recidive", "sshd"}, JailsKnown: true}
	return b.Digest().Quiet(now.Add(-24*time.Hour), "", nil, f2b)
}

// CheckOptions are the arguments of `check`.
type CheckOptions struct {
	*Globals
	Verbose bool      // each disabled channel's problem, not only how many have one
	Send    bool      // then send the test message, as test does
	Now     time.Time // the time of the sample bans
}

func newCheckCmd(g *Globals) *cobra.Command {
	o := &CheckOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "check [-v] [--send]",
		Short: "Validate the configuration and everything the next flush needs on this machine",
		Long: `Validate the configuration and check, without sending, what would make the next flush fail
on this machine: every channel's templates parse and render on sample data (with
report.send_empty, on a report of no bans too), a sendmail
channel's program exists and can be run, a file channel's folder exists and the file can be
written, the buffer folder can hold bans, the flag's folder exists, every record of the GeoIP
databases (geoip.asn_db, geoip.country_db) can be read. Disabled channels are
checked too; how many have a problem is one warning line (-v shows each). Also warns, on
standard error, when a file holding secrets is readable by other users, and when a channel
sends its token, password or secret webhook URL over plain http to another machine
(loopback is fine). What only a real sending shows (a server that refuses, a wrong token)
needs --send: once all is well locally, it sends the test message to every enabled channel,
as f2b-notify test does.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o.Now = time.Now()
			if err := checkRun(o); err != nil || !o.Send {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return testRun(ctx, &TestOptions{Globals: o.Globals, Now: o.Now})
		},
	}
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "show the problem of each disabled channel")
	cmd.Flags().BoolVar(&o.Send, "send", false, "then send a test message to every enabled channel (as test)")
	return cmd
}

func checkRun(o *CheckOptions) error {
	cfg, err := o.Load()
	if err != nil {
		return err
	}
	printWarnings(o.IO.Err, cfg)
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
	printPlainHTTP(o.IO.Err, cfg.File, append(slices.Clone(targets), disabled...))
	var problems []string
	if len(targets) == 0 {
		problems = append(problems, "no enabled channel: flush would refuse to run")
	}
	if err := flush.CheckGeoIP(cfg); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			problems = append(problems, oneLine(line))
		}
	}
	d := sampleDigest(cfg, o.Now)
	var quiet *report.Digest // the report of no bans, when report.send_empty may send one
	if cfg.Report.SendEmpty {
		quiet = quietSample(cfg, o.Now)
	}
	for _, t := range targets {
		if err := checkTarget(t, d, quiet); err != nil {
			problems = append(problems, oneLine(err.Error()))
			continue
		}
		fmt.Fprintf(o.IO.Out, "ok: channel %s (%s): %s\n", t.Name, t.Config.Type, formats(t))
	}
	var off []string // the disabled channels' problems
	for _, t := range disabled {
		if err := checkTarget(t, d, quiet); err != nil {
			off = append(off, oneLine(err.Error()))
			continue
		}
		fmt.Fprintf(o.IO.Out, "ok: channel %s (%s, disabled): %s\n", t.Name, t.Config.Type, formats(t))
	}
	switch {
	case o.Verbose:
		for _, p := range off {
			fmt.Fprintf(o.IO.Err, "%s: warning: %s (the channel is disabled: flush skips it)\n", cfg.File, p)
		}
	case len(off) > 0:
		fmt.Fprintf(o.IO.Err, "%s: warning: %s (flush skips %s); check -v shows %s\n", cfg.File,
			textutil.Count(len(off), "disabled channel has a problem", "disabled channels have problems"), textutil.Plural(len(off), "it", "them"), textutil.Plural(len(off), "it", "them"))
	}
	if err := checkWritable(cfg.Buffer.Dir); err != nil {
		problems = append(problems, err.Error())
	}
	if err := warnStrays(o.IO.Err, cfg.File+": warning: ", cfg.Buffer.Dir); err != nil {
		problems = append(problems, oneLine(err.Error()))
	}
	if err := cfg.Unsafe(); err != nil {
		problems = append(problems, err.Error())
	}
	flagProblems, flagWarnings := checkFlag(cfg)
	problems = append(problems, flagProblems...)
	for _, w := range flagWarnings {
		fmt.Fprintf(o.IO.Err, "%s: warning: %s\n", cfg.File, w)
	}
	for _, p := range problems {
		fmt.Fprintln(o.IO.Err, cfg.File+": "+p)
	}
	if len(problems) > 0 {
		return &exitError{code: exitFail, msg: "check: " + textutil.Count(len(problems), "problem", "problems") + " in " + cfg.File}
	}
	fmt.Fprintf(o.IO.Out, "%s: ok\n", cfg.File)
	return nil
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
// templates, rendering them on the sample digest d (and on quiet, the
// report of no bans, unless nil), or what it needs on this machine
// (channels.Checker).
func checkTarget(t *render.Target, d, quiet *report.Digest) error {
	if t.Err != nil {
		return t.Err
	}
	if _, err := t.Render(d); err != nil {
		return err
	}
	if quiet != nil {
		if _, err := t.Render(quiet); err != nil {
			return fmt.Errorf("the report of no bans (report.send_empty): %w", err)
		}
	}
	if c, ok := t.Channel.(channels.Checker); ok {
		return c.Check()
	}
	return nil
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
			if d == dir {
				if err := probeBuffer(d); err != nil {
					return fmt.Errorf("key buffer.dir: %w", err)
				}
				return nil
			}
			if err := probeCreate(d); err != nil {
				return fmt.Errorf("key buffer.dir: %w", err)
			}
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

// printPayload writes what t would send for m: the request body (or
// bodies), the e-mail message, the text appended to a file.
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
