package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/banpath"
)

// FlushOptions are the arguments of `flush` and `stop`.
type FlushOptions struct {
	*Globals
	IfFlag  bool
	Timeout time.Duration // 0: the configuration's flush.timeout
	Jail    string        // stop only
}

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
buffer folder that other users can change is refused.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return flushRun(o) },
	}
	cmd.Flags().BoolVar(&o.IfFlag, "if-flag", false, "send only if the flag file exists")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "bound on the whole flush (default: flush.timeout of the configuration)")
	return cmd
}

func newStopCmd(g *Globals) *cobra.Command {
	o := &FlushOptions{Globals: g, Timeout: 25 * time.Second}
	cmd := &cobra.Command{
		Use:   "stop --jail NAME",
		Short: "Flush what is pending (run by fail2ban's actionstop)",
		Long: `fail2ban runs this when a jail stops. Like the seed's actionstop, it sends what is
pending, bounded by --timeout so that fail2ban's own action timeout is never reached.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := buffer.ValidJail(o.Jail); err != nil {
				return &exitError{code: 2, msg: "stop: " + err.Error()}
			}
			return flushRun(o)
		},
	}
	cmd.Flags().StringVar(&o.Jail, "jail", "", "jail name (<name>)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "bound on the flush; keep it under the action's timeout")
	strictArgs(cmd, "")
	return cmd
}

func newStartCmd(g *Globals) *cobra.Command {
	var jail string
	cmd := &cobra.Command{
		Use:   "start --jail NAME",
		Short: "Prepare the buffer (run by fail2ban's actionstart)",
		Long: `fail2ban runs this when a jail starts. It creates the buffer folder if needed and sends
nothing: the "started" mail of the stock actions is noise on every restart.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := buffer.ValidJail(jail); err != nil {
				return &exitError{code: 2, msg: "start: " + err.Error()}
			}
			// The folder comes from what the ban path reads, so that it is
			// the one bans go to even when the file has a mistake elsewhere.
			s, _, _ := banpath.ReadSettings(g.ConfigPath())
			if err := os.MkdirAll(s.Dir, 0o750); err != nil {
				return fmt.Errorf("start: create buffer folder: %w", err)
			}
			// A missing file is said too, as ban says it: a typo in a
			// jail's config= is best found when the jail starts.
			if _, err := g.Load(); err != nil {
				return &exitError{code: 1, msg: "start: " + oneLine(err.Error())}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&jail, "jail", "", "jail name (<name>)")
	strictArgs(cmd, "")
	return cmd
}

// lowGC trades a little CPU for memory in the commands that read the whole
// buffer: the digest's state lives to the end, while decoding makes short
// garbage, so a tighter collection goal bounds the peak near the live state
// (measured in BENCHMARKS.md: 1,000,000 bans from 100,000 addresses).
func lowGC() { debug.SetGCPercent(30) }

func flushRun(o *FlushOptions) error {
	lowGC()
	cfg, err := o.LoadTrusted()
	if err != nil {
		return err
	}
	printWarnings(o.IO.Err, cfg)
	targets, err := flush.Prepare(cfg)
	if err != nil {
		return err
	}
	if o.Timeout > 0 && o.Timeout < cfg.Flush.Timeout {
		cfg.Flush.Timeout = o.Timeout
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := flush.Run(ctx, cfg, targets, flush.Options{IfFlag: o.IfFlag})
	if res != nil {
		printResult(o.IO.Out, res)
	}
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("flush: %d of %d channels failed; their bans are kept for the next flush", len(failed), len(res.Channels))}
	}
	return nil
}

// printWarnings writes the configuration's warnings, one line each.
func printWarnings(w io.Writer, cfg *config.Config) {
	for _, line := range cfg.Warnings() {
		fmt.Fprintln(w, "f2b-notify: "+line)
	}
}

func printResult(w io.Writer, res *flush.Result) {
	switch {
	case res.Busy:
		fmt.Fprintln(w, "another flush is running; nothing to do")
		return
	case res.NoFlag:
		fmt.Fprintln(w, "no flag file; nothing to do")
		return
	case res.Batches == 0:
		fmt.Fprintln(w, "no bans to report")
	}
	if res.Dropped > 0 {
		fmt.Fprintf(w, "retention dropped %d records (counted in the next reports)\n", res.Dropped)
	}
	for _, c := range res.Channels {
		if c.Resumed > 0 {
			fmt.Fprintf(w, "%s: sent the last %d %s of a report an earlier flush left half sent\n", c.Name, c.Resumed, plural(c.Resumed, "message", "messages"))
		}
		switch {
		case c.Err != nil:
			fmt.Fprintf(w, "%s: FAILED: %s\n", c.Name, oneLine(c.Err.Error()))
		case c.Batches == 0:
			if res.Batches > 0 && c.Resumed == 0 {
				fmt.Fprintf(w, "%s: nothing new\n", c.Name)
			}
		case c.Held:
			fmt.Fprintf(w, "%s: %d %s, fewer than its min_bans; kept for a later report\n", c.Name, c.Bans, plural(c.Bans, "ban", "bans"))
		case c.Skipped:
			fmt.Fprintf(w, "%s: nothing to send; %d %s without new bans %s for the next report\n", c.Name, c.Batches, plural(c.Batches, "batch", "batches"), plural(c.Batches, "waits", "wait"))
		default:
			fmt.Fprintf(w, "%s: sent %d %s from %d %s\n", c.Name, c.Bans, plural(c.Bans, "ban", "bans"), c.Batches, plural(c.Batches, "batch", "batches"))
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
