package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/templates"
)

// newTemplateCmd prints an embedded default template, to start one's own
// from: f2b-notify template slack > /etc/f2b-notify/slack.tmpl.
func newTemplateCmd(g *Globals) *cobra.Command {
	var subject bool
	cmd := &cobra.Command{
		Use:   "template [FORMAT]",
		Short: "Print the default template of a format (or list the formats), to start your own from",
		Long: `Print the embedded default report template of FORMAT, as a channel renders it unless its
templates: block names a file of yours; --subject prints the default subject template instead.
Without FORMAT, list the formats. Nothing is read or changed.

  f2b-notify template slack > /etc/f2b-notify/slack.tmpl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if subject {
				if len(args) > 0 {
					return fmt.Errorf("template --subject: the subject template is the same for every format; give no FORMAT")
				}
				fmt.Fprintln(g.IO.Out, templates.DefaultSubject())
				return nil
			}
			if len(args) == 0 {
				for _, f := range templates.Formats() {
					fmt.Fprintln(g.IO.Out, f)
				}
				return nil
			}
			src, err := templates.Default(templates.Format(args[0]))
			if err != nil {
				var names []string
				for _, f := range templates.Formats() {
					names = append(names, string(f))
				}
				return fmt.Errorf("template: no format %q (formats: %s)", args[0], strings.Join(names, ", "))
			}
			fmt.Fprint(g.IO.Out, src)
			if !strings.HasSuffix(src, "\n") {
				fmt.Fprintln(g.IO.Out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&subject, "subject", false, "print the default subject template")
	return cmd
}
