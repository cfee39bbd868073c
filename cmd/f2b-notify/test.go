package main

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/templates"
)

// TestOptions are the arguments of `test`.
type TestOptions struct {
	*Globals
	Channel string // only this channel; "" for every enabled one
	Now     time.Time
}

func newTestCmd(g *Globals) *cobra.Command {
	o := &TestOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "test [--channel NAME]",
		Short: "Send a short test message to one or every enabled channel",
		Long: `Send a short test message (a report of two sample offenders, rendered with each channel's
own templates) to every enabled channel, or to the one named, and say per channel what
happened. The message says it is a test: its subject begins with "[test] " and its first
line says that the bans in it are samples. Where the channel takes files, its chart goes
with it; a chart or list that the channel refused is said ("sent, but: ...") and makes
test exit 1, as a channel that failed does. Nothing in the buffer is read or changed. One
attempt per channel, no retries; Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Now = time.Now()
			return testRun(ctx, o)
		},
	}
	cmd.Flags().StringVar(&o.Channel, "channel", "", "only this channel")
	return cmd
}

// testLine is the first line of a test message.
const testLine = "This is a test message from f2b-notify test; the bans below are samples."

func testRun(ctx context.Context, o *TestOptions) error {
	cfg, targets, err := o.trustedTargets(o.Channel)
	if err != nil {
		return err
	}
	d := sampleDigest(cfg, o.Now)
	d.Offenders = d.Offenders[:min(2, len(d.Offenders))]
	d.Notes.MoreOffenders = 0
	var failed, incomplete []string
	for _, t := range targets {
		err := t.Err
		var m channels.Message
		if err == nil {
			m, err = t.Render(d)
		}
		if err == nil {
			err = markTest(&m, t.Channel.Formats())
		}
		var warnings []string
		if err == nil {
			job := t.Job(m)
			job.Attempts = 1
			v := channels.Deliver(ctx, job)
			err, warnings = v.Err, v.Warnings
		}
		if ctx.Err() != nil {
			return &exitError{code: exitFail, msg: "test: interrupted at channel " + t.Name + "; the channels after it were not tried"}
		}
		if err != nil {
			failed = append(failed, t.Name)
			fmt.Fprintf(o.IO.Out, "%s (%s): FAILED: %s\n", t.Name, t.Config.Type, oneLine(err.Error()))
			continue
		}
		if len(warnings) > 0 {
			// The report went, but not its chart or full list: the flush
			// would warn of it every time.
			incomplete = append(incomplete, t.Name)
			for _, w := range warnings {
				fmt.Fprintf(o.IO.Out, "%s (%s): sent, but: %s\n", t.Name, t.Config.Type, oneLine(w))
			}
			continue
		}
		fmt.Fprintf(o.IO.Out, "%s (%s): sent\n", t.Name, t.Config.Type)
	}
	var problems []string
	if len(failed) > 0 {
		problems = append(problems, ofChannels(failed, len(targets))+" failed")
	}
	if len(incomplete) > 0 {
		problems = append(problems, "the attachments of "+ofChannels(incomplete, len(targets))+" were not all sent")
	}
	if len(problems) > 0 {
		return &exitError{code: exitFail, msg: "test: " + strings.Join(problems, "; ")}
	}
	return nil
}

// markTest makes m say it is a test: "[test] " before its subject, and
// testLine first in every body (the first page of a split one), in each
// format's markup. A JSON body has no line to put first; its subject says it.
// An SMS summary, one message, starts with "[test] " instead.
func markTest(m *channels.Message, formats []channels.Format) error {
	m.Subject = "[test] " + m.Subject
	for f, body := range m.Bodies {
		b, err := withTestLine(f, body)
		if err != nil {
			return err
		}
		m.Bodies[f] = b
	}
	if len(m.Pages) > 0 && len(formats) > 0 {
		b, err := withTestLine(formats[0], m.Pages[0])
		if err != nil {
			return err
		}
		m.Pages[0] = b
	}
	return nil
}

// withTestLine puts testLine first in body, a report in format f.
func withTestLine(f channels.Format, body string) (string, error) {
	switch f {
	case channels.JSONFormat:
		return body, nil
	case channels.SMSFormat: // a summary of one message: a word, not a line
		return "[test] " + body, nil
	}
	d, err := templates.Lookup(f)
	if err != nil {
		return "", err
	}
	switch {
	case f == channels.TelegramHTML: // no paragraphs in Telegram's HTML: lines
		return "<i>" + html.EscapeString(testLine) + "</i>\n\n" + body, nil
	case d.HTML:
		line := `<p><i>` + html.EscapeString(testLine) + "</i></p>\n"
		// In a whole document, the first thing in its body.
		if i := strings.Index(body, "<body"); i >= 0 {
			if j := strings.IndexByte(body[i:], '>'); j >= 0 {
				at := i + j + 1
				return body[:at] + "\n" + line + body[at:], nil
			}
		}
		return line + body, nil
	case d.Escape != nil:
		return d.Escape(testLine) + "\n\n" + body, nil
	}
	return testLine + "\n\n" + body, nil
}
