package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// IO holds the streams a command reads and writes, so tests see exactly
// what a user would.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Globals are the flags every command has.
type Globals struct {
	IO         *IO
	ConfigFlag string
}

// ConfigPath is the configuration file to read: --config, else
// $F2B_NOTIFY_CONFIG, else /etc/f2b-notify/config.yaml.
func (g *Globals) ConfigPath() string { return config.Path(g.ConfigFlag) }

// Load reads the configuration.
func (g *Globals) Load() (*config.Config, error) { return config.Load(g.ConfigPath()) }

// LoadTrusted reads the configuration and refuses it when a user other than
// root or the one running f2b-notify could change it or the buffer folder
// (see config.Config.Unsafe): the commands that send, run sendmail or read
// the buffer act on what it names.
func (g *Globals) LoadTrusted() (*config.Config, error) {
	cfg, err := g.Load()
	if err != nil {
		return nil, err
	}
	if err := cfg.Unsafe(); err != nil {
		return nil, fmt.Errorf("refused: %w", err)
	}
	return cfg, nil
}

// NewRoot builds the command tree.
func NewRoot(streams *IO) *cobra.Command {
	g := &Globals{IO: streams}
	root := &cobra.Command{
		Use:   "f2b-notify",
		Short: "Buffer fail2ban bans and send one digest report to e-mail and chat channels",
		Long: `f2b-notify is a fail2ban action. fail2ban runs "f2b-notify ban" once per ban;
the ban is stored on disk at once. When a report is due (cron or a systemd timer runs
"f2b-notify flush", or a cron job touches the flag file and the next ban sees it), one
digest of every buffered ban goes to each configured channel.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.PersistentFlags().StringVar(&g.ConfigFlag, "config", "", "configuration file (default $"+config.EnvConfig+", else "+config.DefaultPath+")")
	root.AddCommand(
		newBanCmd(g, "ban"),
		newBanCmd(g, "unban"),
		newStartCmd(g),
		newStopCmd(g),
		newFlushCmd(g),
		newPreviewCmd(g),
		newCheckCmd(g),
		newTestCmd(g),
		newStatusCmd(g),
		newDemoCmd(g),
		newTemplateCmd(g),
		newVersionCmd(g),
	)
	usageExits2(root)
	return root
}

// usageExits2 makes a bad flag or argument end every command with status 2,
// the usage error of Unix commands, apart from what failed while working
// (status 1). Commands with their own (strictArgs) keep theirs.
func usageExits2(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if !c.HasParent() {
			return &exitError{code: exitUsage, msg: oneLine(err.Error())}
		}
		return &exitError{code: exitUsage, msg: c.Name() + ": " + oneLine(err.Error())}
	})
	// A word that is no command: cobra would say so with status 1.
	root.SuggestionsMinimumDistance = 2
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.Name())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return &exitError{code: exitUsage, msg: msg}
	}
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if args := c.Args; args != nil && c.HasParent() {
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					var ee *exitError
					if asExit(err, &ee) {
						return err
					}
					return &exitError{code: exitUsage, msg: c.Name() + ": " + oneLine(err.Error())}
				}
				return nil
			}
		}
	}
	walk(root)
}

// exitError ends the program with a status and an optional message.
type exitError struct {
	code  int
	msg   string
	stamp bool // msg goes to a log: begin it with the time
}

func (e *exitError) Error() string { return e.msg }

func asExit(err error, target **exitError) bool { return errors.As(err, target) }

// oneLine keeps an error on one line: fail2ban logs each line on its own.
func oneLine(s string) string { return textutil.OneLine(s) }

// strictArgs makes a command that fail2ban runs exit 2 with one line on a bad
// flag or a stray argument, so that fail2ban's log says what was wrong.
func strictArgs(cmd *cobra.Command, suffix string) {
	bad := func(err error) error {
		return &exitError{code: exitUsage, msg: cmd.Name() + ": " + oneLine(err.Error()) + suffix}
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return bad(err) })
	cmd.Args = func(c *cobra.Command, args []string) error {
		if err := cobra.NoArgs(c, args); err != nil {
			return bad(err)
		}
		return nil
	}
}
