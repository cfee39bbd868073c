package main

import (
	"time"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/banpath"
	"github.com/spf13/cobra"
)

// banPath is the ban path of the full command. It links a complete YAML
// parser anyway (viper's), so it reads every file, where the lean binary
// reads plain files only and hands the others to this command.
func banPath() banpath.Program { return banpath.Program{Parse: config.Document} }

// BanOptions are the arguments of `ban` and `unban`, as fail2ban passes them.
type BanOptions struct {
	*Globals
	banpath.Args
}

func newBanCmd(g *Globals, action string) *cobra.Command {
	o := &BanOptions{Globals: g, Args: banpath.Args{Action: action}}
	article := "a"
	if action == "unban" {
		article = "an"
	}
	cmd := &cobra.Command{
		Use:   action + " --jail NAME --ip ADDR [flags]",
		Short: "Record " + article + " " + action + " (run by fail2ban's action" + action + ")",
		Long: `Record one ` + action + ` in the buffer and return. The record is on disk when the command
exits 0. No network, no templates: fail2ban runs one action at a time for the whole host.
It never waits on anyone: if another process holds the buffer lock for more than 250 ms,
the record goes into a file of its own in the buffer folder, which the next flush takes.
Only buffer.dir, buffer.fsync and flag are read from the configuration. If the flag file
exists, a flush is started in the background, fully detached; its output goes to
BUFFER_DIR/last-flush.log. The lean binary f2b-notify-ban does the same, faster.

A configuration file that is missing, cannot be read, or has a wrong buffer.dir still
gets the ban stored, in the folder of the default configuration ($F2B_NOTIFY_CONFIG, else
/etc/f2b-notify/config.yaml, else /var/lib/f2b-notify), whose report names the file; the
command then exits 1 with one line naming the file, so that fail2ban logs it. If the
configuration file or the buffer folder could be changed by another user than root or
this one, the record is stored all the same, no flush is started, and the command exits
1 saying so.`,
		RunE: func(*cobra.Command, []string) error {
			if e := banPath().Run(o.Args, o.ConfigPath(), time.Now()); e.Code != 0 {
				return &exitError{code: e.Code, msg: e.Msg}
			}
			return nil
		},
	}
	strictArgs(cmd, "; nothing recorded")
	o.Args.Flags(func(p *string, name, usage string) { cmd.Flags().StringVar(p, name, "", usage) })
	return cmd
}
