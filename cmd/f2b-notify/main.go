// Command f2b-notify is a fail2ban action that buffers bans and sends one
// digest report to e-mail and chat channels when a report is due.
//
// fail2ban runs `f2b-notify ban` once per ban; cron or a systemd timer runs
// `f2b-notify flush` (or touches the flag file, the sendmail-cron way). See
// the README for the whole story.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	os.Exit(Main())
}

// Main runs the command line and returns the exit status.
func Main() int {
	root := NewRoot(&IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	root.SetArgs(os.Args[1:])
	if err := root.Execute(); err != nil {
		var ee *exitError
		if asExit(err, &ee) {
			switch {
			case ee.msg == "":
			case ee.stamp:
				fmt.Fprintln(os.Stderr, stampLine(time.Now(), "f2b-notify: "+ee.msg))
			default:
				fmt.Fprintln(os.Stderr, "f2b-notify: "+ee.msg)
			}
			return ee.code
		}
		fmt.Fprintln(os.Stderr, "f2b-notify: "+oneLine(err.Error()))
		return exitFail
	}
	return 0
}
