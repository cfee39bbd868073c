package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/banpath"
	"github.com/f2b-notify/f2b-notify/internal/defaults"
	"github.com/f2b-notify/f2b-notify/internal/jailstate"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/render"
)

// FlushOptions are the arguments of `flush`.
type FlushOptions struct {
	*Globals
	IfFlag     bool
	NoEmpty    bool          // no report without bans, whatever report.send_empty says (the flush stop starts)
	Verbose    bool          // say what was sent; else only failures are said
	Timestamps bool          // begin each output line with the time (the detached flush's log)
	Timeout    time.Duration // 0: the configuration's flush.timeout
}

// Exit statuses, as flush --help and the README give them; 0 is all went
// well, or there was nothing to do.
const (
	exitFail  = 1 // a channel failed, the flag could not be removed, the configuration or buffer could not be used
	exitUsage = 2 // a bad flag or argument
)

func newFlushCmd(g *Globals) *cobra.Command {
	o := &FlushOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Send the report now (cron, systemd timer, or by hand)",
		Long: `Send one digest of every buffered ban to each enabled channel. A channel that fails keeps
its bans for the next flush; the others are not sent them again. A second flush while one
runs exits 0 at once. With --if-flag, nothing happens unless the flag file exists (the
sendmail-cron way: a cron job touches the flag, the next ban or this command sends).
A flag that cannot be removed makes the flush exit 1; bans then start no flush for that
same file, and --if-flag refuses it, until it is created anew. A configuration file or
buffer folder that other users can change is refused.

With report.send_empty, a flush that finds no ban for a channel sends it a short report
saying so (with --if-flag, only when the flag is there).

It prints nothing when all went well, so that cron mails nobody; -v says what was sent to
each channel. Failures go to standard error; so does, as a warning, a chart or full list
that could not follow a delivered report (the report and its bans count as delivered, exit
status 0). With metrics.textfile set, each flush replaces
that file with Prometheus metrics for node_exporter's textfile collector; a file that
cannot be written is a warning, not a failure.

Exit status:
  0  every channel was sent its report, or there was nothing to do
  1  a channel failed (its bans are kept for the next flush), the flag could not be
     removed, or the configuration or the buffer could not be used
  2  a bad flag or argument`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return flushRun(o) },
	}
	cmd.Flags().BoolVar(&o.IfFlag, "if-flag", false, "send only if the flag file exists")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "say what was sent to each channel, also when all went well")
	cmd.Flags().BoolVar(&o.Timestamps, "timestamps", false, "begin each line of output with the time (RFC 3339)")
	_ = cmd.Flags().MarkHidden("timestamps") // for the flush that bans and stop start, whose output goes to a log
	cmd.Flags().BoolVar(&o.NoEmpty, "no-empty", false, "send no report without bans, whatever report.send_empty says")
	_ = cmd.Flags().MarkHidden("no-empty") // for the flush that stop starts: it sends what is pending, it is no scheduled report
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "bound on the whole flush (default: flush.timeout of the configuration)")
	return cmd
}

// StopOptions are the arguments of `stop`.
type StopOptions struct {
	*Globals
	Jail    string
	Wait    time.Duration // how long stop waits for the flush it starts
	Timeout time.Duration // bound on that flush; 0: the configuration's flush.timeout
}

func newStopCmd(g *Globals) *cobra.Command {
	o := &StopOptions{Globals: g, Wait: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "stop --jail NAME",
		Short: "Send what is pending, in the background (run by fail2ban's actionstop)",
		Long: `fail2ban runs this when a jail stops, one jail after the other. If bans are pending or
spooled, it starts f2b-notify flush in a new session (its output goes to
BUFFER_DIR/last-flush.log) and waits for it at most --wait: a flush that ends by then has its
output and exit status shown here; one that takes longer (a channel that hangs) goes on in the
background, so that a stopping fail2ban never waits for a channel. A channel that fails keeps
its bans in the spool for the next flush. With nothing pending and nothing spooled it starts
nothing. That flush sends no report of no bans, whatever report.send_empty says.

It first records that the jail stopped in BUFFER_DIR/jails, for the report of no bans to count
the jails running; a file that cannot be written is a warning, never a failure.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := buffer.ValidJail(o.Jail); err != nil {
				return &exitError{code: exitUsage, msg: "stop: " + err.Error()}
			}
			return stopRun(o)
		},
	}
	cmd.Flags().StringVar(&o.Jail, "jail", "", "jail name (<name>)")
	cmd.Flags().DurationVar(&o.Wait, "wait", o.Wait, "how long to wait for the flush before leaving it to run in the background")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "bound on the flush (default: flush.timeout of the configuration)")
	strictArgs(cmd, "")
	return cmd
}

func stopRun(o *StopOptions) error {
	// Recorded first, from what the ban path reads: a mistake elsewhere in
	// the file must not leave the jail recorded as running.
	s, _, _ := banPath().ReadSettings(o.ConfigPath())
	recordJail(o.IO.Err, s, "stop", o.Jail, false)
	cfg, err := o.Load()
	if err != nil {
		return err
	}
	buf := buffer.New(cfg.Buffer.Dir, false)
	some, err := buf.HasRecords()
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if !some {
		fmt.Fprintln(o.IO.Out, "nothing pending; no flush started")
		return nil
	}
	// --no-empty: fail2ban stops its jails one after the other, and a
	// report without bans for each would be noise, not news.
	args := []string{"flush", "-v", "--timestamps", "--no-empty"}
	if o.Timeout > 0 {
		args = append(args, "--timeout", o.Timeout.String())
	}
	p, off, err := banPath().StartDetached(o.ConfigPath(), cfg.Buffer.Dir, args...)
	if err != nil {
		return fmt.Errorf("stop: %w; the bans stay in the buffer for the next flush", err)
	}
	done := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := p.Wait()
		done <- st
	}()
	logName := filepath.Join(cfg.Buffer.Dir, defaults.FlushLog)
	select {
	case st := <-done:
		// The flush ended: show what it said, as if it ran here.
		if f, err := os.Open(logName); err == nil {
			sc := bufio.NewScanner(io.NewSectionReader(f, off, 1<<30))
			sc.Buffer(nil, banpath.MaxFlushLog)
			for sc.Scan() {
				fmt.Fprintln(o.IO.Out, unstamp(sc.Text()))
			}
			f.Close()
		}
		switch {
		case st == nil || st.ExitCode() < 0: // killed by a signal
			return &exitError{code: exitFail, msg: "stop: the flush did not end normally; the bans stay in the buffer for the next flush"}
		case st.ExitCode() != 0:
			return &exitError{code: st.ExitCode()}
		}
		return nil
	case <-time.After(o.Wait):
		fmt.Fprintf(o.IO.Out, "the flush still runs after %v: it goes on in the background, its output to %s\n", o.Wait, logName)
		return nil
	}
}

// StartOptions are the arguments of `start`.
type StartOptions struct {
	*Globals
	Jail string
}

func newStartCmd(g *Globals) *cobra.Command {
	o := &StartOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "start --jail NAME",
		Short: "Prepare the buffer (run by fail2ban's actionstart)",
		Long: `fail2ban runs this when a jail starts. It creates the buffer folder if needed, checks that
bans can be stored there (a file can be created and removed in it, its lock taken, its
pending file written), and sends nothing: the "started" mail of the stock actions is noise
on every restart. It exits 1 with one line saying what is wrong, so that fail2ban logs it
when the jail starts rather than at every ban.

It records that the jail started in BUFFER_DIR/jails, for the report of no bans
(report.send_empty) to count the jails running; a file that cannot be written is a warning,
never a failure.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := buffer.ValidJail(o.Jail); err != nil {
				return &exitError{code: exitUsage, msg: "start: " + err.Error()}
			}
			return startRun(o)
		},
	}
	cmd.Flags().StringVar(&o.Jail, "jail", "", "jail name (<name>)")
	strictArgs(cmd, "")
	return cmd
}

func startRun(o *StartOptions) error {
	// The folder comes from what the ban path reads, so that it is the one
	// bans go to even when the file has a mistake elsewhere.
	s, _, _ := banPath().ReadSettings(o.ConfigPath())
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return &exitError{code: exitFail, msg: "start: create buffer folder: " + oneLine(err.Error()) + "; bans cannot be stored"}
	}
	if err := probeBuffer(s.Dir); err != nil {
		return &exitError{code: exitFail, msg: "start: " + oneLine(err.Error()) + "; bans cannot be stored"}
	}
	recordJail(o.IO.Err, s, "start", o.Jail, true)
	// A missing file is said too, as ban says it: a typo in a jail's
	// config= is best found when the jail starts.
	if _, err := o.Load(); err != nil {
		return &exitError{code: exitFail, msg: "start: " + oneLine(err.Error())}
	}
	return nil
}

// recordJail writes in the buffer folder's jails file that jail started or
// stopped, for the report without bans to say which jails run. It never
// fails the command: a file that cannot be written is a warning, and the
// report then says nothing of the jails.
func recordJail(errw io.Writer, s banpath.Settings, cmd, jail string, started bool) {
	if err := jailstate.Record(s.Dir, jail, started, time.Now(), s.Fsync); err != nil {
		fmt.Fprintf(errw, "f2b-notify: warning: %s: the jails file does not record jail %q (bans are not affected; reports say nothing of the jails): %s\n", cmd, jail, oneLine(err.Error()))
	}
}

// lowGC trades a little CPU for memory in the commands that read the whole
// buffer: the digest's state lives to the end, while decoding makes short
// garbage, so a tighter collection goal bounds the peak near the live state
// (measured in BENCHMARKS.md: 1,000,000 bans from 100,000 addresses).
func lowGC() { debug.SetGCPercent(30) }

func flushRun(o *FlushOptions) error {
	lowGC()
	out, errw := o.IO.Out, o.IO.Err
	if o.Timestamps {
		out, errw = stamped(out, errw, time.Now)
	}
	return stampedErr(o.Timestamps, flushTo(o, out, errw))
}

// flushTo flushes, saying what it did on out and its failures on errw.
func flushTo(o *FlushOptions, out, errw io.Writer) error {
	cfg, err := o.LoadTrusted()
	if err != nil {
		return err
	}
	printWarnings(errw, cfg)
	targets, err := render.Prepare(cfg)
	if err != nil {
		return err
	}
	if o.Timeout > 0 && o.Timeout < cfg.Flush.Timeout {
		cfg.Flush.Timeout = o.Timeout
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := flush.Run(ctx, cfg, targets, flush.Options{IfFlag: o.IfFlag, NoEmpty: o.NoEmpty})
	if res != nil {
		if o.Verbose {
			printResult(out, res)
		}
		printFailures(errw, res)
		if res.Metrics != nil {
			fmt.Fprintf(errw, "f2b-notify: warning: metrics not written (the flush is not affected): %s\n", oneLine(res.Metrics.Error()))
		}
	}
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		return &exitError{code: exitFail, msg: "flush: " + failedSummary(res)}
	}
	return nil
}

// stampedErr makes the error that ends a flush begin with the time too, as
// Main prints it on standard error, which is the same log.
func stampedErr(on bool, err error) error {
	if !on || err == nil {
		return err
	}
	e := &exitError{code: exitFail, msg: oneLine(err.Error())}
	var ee *exitError
	if asExit(err, &ee) {
		e.code = ee.code
	}
	e.stamp = true
	return e
}

// failedSummary says in one line which channels failed and what became of
// their bans: kept when they had some to send, none lost when they had none.
func failedSummary(res *flush.Result) string {
	var names []string
	withBans := 0
	for _, c := range res.Failed() {
		names = append(names, c.Name)
		if c.Batches > 0 {
			withBans++
		}
	}
	what := ofChannels(names, len(res.Channels)) + " failed"
	switch {
	case withBans == 0:
		return what + "; no bans were waiting for " + textutil.Plural(len(names), "it", "them")
	case len(names) == 1:
		return what + "; its bans are kept for the next flush"
	}
	return what + "; their bans are kept for the next flush"
}

// printWarnings writes the configuration's warnings, one line each.
func printWarnings(w io.Writer, cfg *config.Config) {
	for _, line := range cfg.Warnings() {
		fmt.Fprintln(w, "f2b-notify: "+line)
	}
}

// printResult says what a flush did for each channel that did not fail
// (printFailures says the rest): flush -v, and the detached flush's log.
func printResult(w io.Writer, res *flush.Result) {
	switch {
	case res.Busy:
		fmt.Fprintln(w, "another flush is running; nothing to do")
		return
	case res.NoFlag:
		fmt.Fprintln(w, "no flag file; nothing to do")
		return
	case res.Batches == 0 && len(res.Failed()) == 0:
		fmt.Fprintln(w, "no bans to report")
	}
	if res.Dropped > 0 {
		fmt.Fprintf(w, "retention dropped %s (counted in the next reports)\n", textutil.Count(res.Dropped, "record", "records"))
	}
	for _, c := range res.Channels {
		if c.Resumed > 0 {
			fmt.Fprintf(w, "%s: sent the last %s of a report an earlier flush left half sent\n", c.Name, textutil.Count(c.Resumed, "message", "messages"))
		}
		switch {
		case c.Err != nil:
		case c.Empty:
			fmt.Fprintf(w, "%s: sent a report of no bans (report.send_empty)\n", c.Name)
		case c.Batches == 0:
			if res.Batches > 0 && c.Resumed == 0 {
				fmt.Fprintf(w, "%s: nothing new\n", c.Name)
			}
		case c.Held:
			fmt.Fprintf(w, "%s: %s, fewer than its min_bans; kept for a later report\n", c.Name, textutil.Count(c.Bans, "ban", "bans"))
		case c.Skipped:
			fmt.Fprintf(w, "%s: nothing to send; %s without new bans %s for the next report\n", c.Name, textutil.Count(c.Batches, "batch", "batches"), textutil.Plural(c.Batches, "waits", "wait"))
		default:
			fmt.Fprintf(w, "%s: sent %s from %s\n", c.Name, textutil.Count(c.Bans, "ban", "bans"), textutil.Count(c.Batches, "batch", "batches"))
		}
	}
}

// printFailures says, one line each, why each failed channel failed, and
// which attachments of a delivered report could not be sent.
func printFailures(w io.Writer, res *flush.Result) {
	for _, c := range res.Failed() {
		fmt.Fprintf(w, "%s: FAILED: %s\n", c.Name, oneLine(c.Err.Error()))
	}
	for _, c := range res.Channels {
		for _, warning := range c.Warnings {
			fmt.Fprintf(w, "f2b-notify: warning: %s\n", oneLine(warning))
		}
	}
}
