// Command fakesendmail stands in for sendmail in the reliability tests: it
// waits, reads the message from standard input and keeps it as one file,
// written under a temporary name and renamed, so that a reader sees only
// what sendmail fully received.
//
//	fakesendmail --dir DIR --delay 15ms [sendmail arguments...]
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir, delay := "", time.Duration(0)
	args := os.Args[1:]
	for len(args) >= 2 && (args[0] == "--dir" || args[0] == "--delay") {
		switch args[0] {
		case "--dir":
			dir = args[1]
		case "--delay":
			d, err := time.ParseDuration(args[1])
			if err != nil {
				fail(err)
			}
			delay = d
		}
		args = args[2:]
	}
	if dir == "" {
		fail(fmt.Errorf("--dir missing"))
	}
	time.Sleep(delay)
	tmp, err := os.CreateTemp(dir, ".tmp.")
	if err != nil {
		fail(err)
	}
	if _, err := io.Copy(tmp, os.Stdin); err != nil {
		fail(err)
	}
	if err := tmp.Close(); err != nil {
		fail(err)
	}
	name := filepath.Join(dir, fmt.Sprintf("msg.%020d.%d", time.Now().UnixNano(), os.Getpid()))
	if err := os.Rename(tmp.Name(), name); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fakesendmail:", err)
	os.Exit(75) // EX_TEMPFAIL
}
