package main

import (
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/f2b-notify/f2b-notify/internal/banpath"
)

func init() {
	// The full command links a complete YAML parser anyway (viper's): its ban
	// path reads every file, where the lean binary reads plain files only and
	// hands the others to this command.
	banpath.Parse = func(data []byte) (map[string]any, error) {
		var doc map[string]any
		err := yaml.Unmarshal(data, &doc)
		return doc, err
	}
}

// BanOptions are the arguments of `ban` and `unban`, as fail2ban passes them.
type BanOptions struct {
	*Globals
	banpath.Args
}

func newBanCmd(g *Globals, action string) *cobra.Command {
	o := &BanOptions{Globals: g, Args: banpath.Args{Action: action}}
	cmd := &cobra.Command{
		Use:   action + " --jail NAME --ip ADDR [flags]",
		Short: "Record a " + action + " (run by fail2ban's action" + action + ")",
		Long: `Record one ` + action + ` in the buffer and return. The record is on disk when the command
exits 0. No network, no templates: fail2ban runs one action at a time for the whole host.
It never waits on anyone: if another process holds the buffer lock for more than 250 ms,
the record goes into a file of its own in the buffer folder, which the next flush takes.
Only buffer.dir, buffer.fsync and flag are read from the configuration. If the flag file
exists, a flush is started in the background, fully detached; its output goes to
BUFFER_DIR/last-flush.log. The lean binary f2b-notify-ban does the same, faster.`,
		RunE: func(*cobra.Command, []string) error {
			if e := banpath.Run(o.Args, o.ConfigPath(), time.Now()); e.Code != 0 {
				return &exitError{code: e.Code, msg: e.Msg}
			}
			return nil
		},
	}
	strictArgs(cmd, "; nothing recorded")
	o.Args.Flags(func(p *string, name, usage string) { cmd.Flags().StringVar(p, name, "", usage) })
	return cmd
}
