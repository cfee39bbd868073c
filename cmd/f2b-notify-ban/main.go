// Command f2b-notify-ban is the lean ban path of f2b-notify: the `ban` and
// `unban` commands alone, with the same arguments, built without the
// configuration framework, templates and network clients of the full
// command, so that it starts about as fast as a Go hello-world (BENCHMARKS.md has the figures). fail2ban runs
// one action command at a time for the whole host, so every millisecond here
// delays every other ban during an attack.
//
// Point the action at it with f2b_notify_ban in jail.local (see
// action.d/f2b-notify.conf). It starts the full f2b-notify (beside it, or on
// $PATH) to flush when the flag file exists.
//
//	f2b-notify-ban [--config FILE] ban --jail NAME --ip ADDR [--failures N] [--time EPOCH]
//	    [--bantime S] [--matches TEXT] [--user NAME] [--restored 0|1]
//	f2b-notify-ban [--config FILE] unban ...
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/banpath"
)

// lean is this binary's ban path: plain YAML only, and the full f2b-notify
// for the rest and for the flush.
var lean = banpath.Program{Lean: true}

func main() {
	e := run(os.Args[1:])
	if e.Msg != "" {
		fmt.Fprintln(os.Stderr, "f2b-notify-ban: "+e.Msg)
	}
	os.Exit(e.Code)
}

func run(args []string) banpath.Exit {
	var config string
	root := flag.NewFlagSet("f2b-notify-ban", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	root.StringVar(&config, "config", "", "configuration file")
	if err := root.Parse(args); err != nil {
		return banpath.Exit{Code: 2, Msg: err.Error()}
	}
	if root.NArg() == 0 {
		return banpath.Exit{Code: 2, Msg: "want a command: ban or unban"}
	}
	a := banpath.Args{Action: root.Arg(0)}
	if a.Action != buffer.ActionBan && a.Action != buffer.ActionUnban {
		return banpath.Exit{Code: 2, Msg: fmt.Sprintf("unknown command %q: this lean binary only records bans and unbans; use f2b-notify for the rest", a.Action)}
	}
	fs := flag.NewFlagSet(a.Action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&config, "config", config, "configuration file")
	a.Flags(func(p *string, name, usage string) { fs.StringVar(p, name, "", usage) })
	if err := fs.Parse(root.Args()[1:]); err != nil {
		return banpath.Exit{Code: 2, Msg: a.Action + ": " + err.Error() + "; nothing recorded"}
	}
	if fs.NArg() > 0 {
		return banpath.Exit{Code: 2, Msg: fmt.Sprintf("%s: unexpected argument %q; nothing recorded", a.Action, fs.Arg(0))}
	}
	return lean.Run(a, banpath.ConfigPath(config), time.Now())
}
