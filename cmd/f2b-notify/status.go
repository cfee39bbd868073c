package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

// StatusOptions are the arguments of `status`.
type StatusOptions struct {
	*Globals
	JSON bool
}

func newStatusCmd(g *Globals) *cobra.Command {
	o := &StatusOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show pending bans, spooled batches and each channel's delivery state",
		Long: `Show pending bans, spooled batches, the flag, and each channel's delivery state and last
error. With --json, the same facts as one JSON object on standard output, for scripts (see
the README for its fields).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return statusRun(o) },
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the status as one JSON object")
	return cmd
}

// Status is what status says, and the object status --json prints.
type Status struct {
	Config  string        `json:"config"`
	Buffer  string        `json:"buffer"`
	Pending PendingStatus `json:"pending"`
	Batches int           `json:"batches"`
	// Strays are the records stored here because their own configuration
	// file could not be used.
	Strays   []StrayStatus   `json:"strays"`
	Flag     FlagStatus      `json:"flag"`
	Unsafe   string          `json:"unsafe,omitempty"` // why flush, test and preview refuse to run
	Channels []ChannelStatus `json:"channels"`
}

// PendingStatus is the bans waiting for the next flush.
type PendingStatus struct {
	Records int `json:"records"`
	Files   int `json:"files"`   // the pending file and the files of their own of bans that found the lock busy
	Damaged int `json:"damaged"` // damaged lines, skipped
}

// StrayStatus is one configuration file whose bans were stored here.
type StrayStatus struct {
	Config  string `json:"config"` // "" for the files beyond the first 16
	Records int    `json:"records"`
}

// FlagStatus is what the flag path holds.
type FlagStatus struct {
	Path  string `json:"path"`  // "" when the flag is turned off
	State string `json:"state"` // off, absent, present, stuck, not_a_file or error
	Text  string `json:"text"`  // the same in words
}

// ChannelStatus is one channel's delivery state.
type ChannelStatus struct {
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	Enabled     bool       `json:"enabled"`
	Waiting     int        `json:"waiting_batches"` // batches of the spool it has not confirmed
	Confirmed   int        `json:"confirmed_batches"`
	Missed      int        `json:"missed_reports"` // since its last success
	LastSuccess *time.Time `json:"last_success"`   // null: never
	LastError   string     `json:"last_error"`     // redacted and neutralised; "" after a success
	Dropped     int        `json:"dropped_records"`
	// PartialSent and PartialOf say that a split report was cut off after
	// message PartialSent of PartialOf (0, 0: none).
	PartialSent int `json:"partial_sent"`
	PartialOf   int `json:"partial_of"`
}

func statusRun(o *StatusOptions) error {
	cfg, err := o.Load()
	if err != nil {
		return err
	}
	s, err := statusOf(cfg)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printStatus(o.IO.Out, s)
	return nil
}

// statusOf gathers what status says.
func statusOf(cfg *config.Config) (*Status, error) {
	buf := buffer.New(cfg.Buffer.Dir, false)
	pending, files, err := buf.Pending()
	if err != nil {
		return nil, err
	}
	batches, err := buf.Batches()
	if err != nil {
		return nil, err
	}
	ledger, err := buf.LoadLedger()
	if err != nil {
		return nil, err
	}
	strays, err := straysIn(cfg.Buffer.Dir)
	if err != nil {
		return nil, err
	}
	s := &Status{
		Config: cfg.File, Buffer: cfg.Buffer.Dir, Batches: len(batches),
		Pending: PendingStatus{Records: pending.Records, Files: files, Damaged: pending.Torn},
		Strays:  []StrayStatus{}, Channels: []ChannelStatus{},
		Flag: flagStatus(buf, cfg.Flag),
	}
	for _, st := range strays {
		s.Strays = append(s.Strays, StrayStatus{Config: st.Config, Records: st.Records})
	}
	if err := cfg.Unsafe(); err != nil {
		s.Unsafe = oneLine(err.Error())
	}
	// The stored errors were made safe when they were written; a
	// ledger of an older version, or a secret configured since, is
	// covered here.
	red := channels.NewRedactor(cfg.Secrets())
	for _, n := range slices.Sorted(maps.Keys(cfg.Channels)) {
		st := ledger.Channel(n)
		c := ChannelStatus{
			Name: n, Type: cfg.Channels[n].Type, Enabled: cfg.Channels[n].IsEnabled(),
			Missed: st.Missed, Dropped: st.Dropped,
		}
		for _, b := range batches {
			if st.Has(b.ID) {
				c.Confirmed++
			} else {
				c.Waiting++
			}
		}
		if !st.LastSuccess.IsZero() {
			t := st.LastSuccess
			c.LastSuccess = &t
		}
		if st.LastError != "" {
			c.LastError = red.String(st.LastError)
		}
		if p := st.Partial; p != nil && p.Sent < len(p.Pages) {
			c.PartialSent, c.PartialOf = p.Sent, len(p.Pages)
		}
		s.Channels = append(s.Channels, c)
	}
	return s, nil
}

func flagStatus(buf *buffer.Buffer, path string) FlagStatus {
	if path == "" {
		return FlagStatus{State: "off", Text: "none (turned off)"}
	}
	f := buf.Flag(path)
	state := map[buffer.FlagState]string{
		buffer.FlagAbsent: "absent", buffer.FlagSet: "present", buffer.FlagStuck: "stuck", buffer.FlagNotFile: "not_a_file",
	}[f.State]
	if f.State == buffer.FlagAbsent && f.Err != nil {
		state = "error"
	}
	return FlagStatus{Path: path, State: state, Text: f.Describe()}
}

// printStatus writes s for a person.
func printStatus(w io.Writer, s *Status) {
	fmt.Fprintf(w, "buffer: %s\npending: %s", s.Buffer, textutil.Count(s.Pending.Records, "record", "records"))
	if own := s.Pending.Files - 1; own > 0 {
		fmt.Fprintf(w, " (%d in %s: bans that found the buffer lock busy)", own, textutil.Plural(own, "a file of its own", "files of their own"))
	}
	if s.Pending.Damaged > 0 {
		fmt.Fprintf(w, " (%s)", textutil.Count(s.Pending.Damaged, "damaged line", "damaged lines"))
	}
	fmt.Fprintf(w, "\nbatches: %d\n", s.Batches)
	for _, st := range s.Strays {
		fmt.Fprintln(w, report.Stray{Config: report.Neutralise(st.Config), Records: st.Records}.Sentence("in "+s.Buffer))
	}
	if s.Flag.Path == "" {
		fmt.Fprintln(w, "flag: "+s.Flag.Text)
	} else {
		fmt.Fprintf(w, "flag: %s (%s)\n", s.Flag.Path, s.Flag.Text)
	}
	if s.Unsafe != "" {
		fmt.Fprintf(w, "unsafe: %s; flush, test and preview refuse to run\n", s.Unsafe)
	}
	for _, c := range s.Channels {
		state := "enabled"
		if !c.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "channel %s (%s, %s): %s waiting", c.Name, c.Type, state, textutil.Count(c.Waiting, "batch", "batches"))
		if c.LastSuccess != nil {
			fmt.Fprintf(w, ", last delivery %s", c.LastSuccess.Format(time.RFC3339))
		}
		if c.Missed > 0 {
			fmt.Fprintf(w, ", %s, last error: %s", textutil.Count(c.Missed, "missed report", "missed reports"), c.LastError)
		}
		if c.Dropped > 0 {
			fmt.Fprintf(w, ", %s dropped by retention", textutil.Count(c.Dropped, "record", "records"))
		}
		if c.PartialOf > 0 {
			fmt.Fprintf(w, ", a split report cut off after message %d of %d (the next flush sends the rest first)", c.PartialSent, c.PartialOf)
		}
		fmt.Fprintln(w)
	}
}

// straysIn counts, per configuration file, the records stored in the
// buffer at dir because that file could not be read (buffer.Record.Config):
// those bans are reported here, not in that file's own report.
func straysIn(dir string) ([]report.Stray, error) {
	buf := buffer.New(dir, false)
	batches, err := buf.Batches()
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, f := range append(buffer.Paths(batches), buf.PendingPath()) {
		_, err := buffer.ScanFileWith(f, buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, _ int64, _ int) error {
			if r.Config != "" {
				n[r.Config]++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []report.Stray
	for _, c := range slices.Sorted(maps.Keys(n)) {
		out = append(out, report.Stray{Config: c, Records: n[c]})
	}
	return out, nil
}

// warnStrays names, one line each after prefix, the configuration files
// whose bans were stored in the buffer at dir (see straysIn).
func warnStrays(w io.Writer, prefix, dir string) error {
	strays, err := straysIn(dir)
	if err != nil {
		return err
	}
	for _, st := range strays {
		fmt.Fprintln(w, prefix+report.Stray{Config: report.Neutralise(st.Config), Records: st.Records}.Sentence("in "+dir))
	}
	return nil
}
