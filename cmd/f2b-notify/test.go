package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/templates"
)

func newTestCmd(g *Globals) *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "test [--channel NAME]",
		Short: "Send a short test message to one or every enabled channel",
		Long: `Send a short test report (two sample offenders, rendered with each channel's own
templates) to every enabled channel, or to the one named, and say per channel what happened.
Nothing in the buffer is read or changed. One attempt per channel, no retries.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := g.LoadTrusted()
			if err != nil {
				return err
			}
			targets, err := selectTargets(cfg, channel)
			if err != nil {
				return err
			}
			d := sampleDigest(cfg, time.Now())
			d.Offenders = d.Offenders[:min(2, len(d.Offenders))]
			d.Notes.MoreOffenders = 0
			opt := templates.Options{Location: targets[0].Location}
			failed := 0
			for _, t := range targets {
				err := t.Err
				var m channels.Message
				if err == nil {
					m, err = t.Render(d)
				}
				if err == nil {
					m.Subject, _ = templates.Subject(`[f2b-notify] test message from {{.Host}}`, d, opt)
					job := t.Job(m)
					job.Attempts = 1
					v := channels.Deliver(context.Background(), job)
					err = v.Err
				}
				if err != nil {
					failed++
					fmt.Fprintf(g.IO.Out, "%s (%s): FAILED: %s\n", t.Name, t.Config.Type, oneLine(err.Error()))
					continue
				}
				fmt.Fprintf(g.IO.Out, "%s (%s): sent\n", t.Name, t.Config.Type)
			}
			if failed > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("test: %d of %d channels failed", failed, len(targets))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel")
	return cmd
}
