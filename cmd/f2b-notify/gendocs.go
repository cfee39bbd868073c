//go:build gendocs

package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/gendocs"
)

// Built only with -tags gendocs, by scripts/package:
//
//	go run -tags gendocs ./cmd/f2b-notify gendocs DIR
//
// writes the manual pages and shell completions under DIR, in Debian's
// places. The installed binary has no such command and does not link the
// generator. The date of the pages is $SOURCE_DATE_EPOCH, else now.
func init() {
	if len(os.Args) < 2 || os.Args[1] != "gendocs" {
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: f2b-notify gendocs DIR")
		os.Exit(2)
	}
	date := time.Now().UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "f2b-notify gendocs: SOURCE_DATE_EPOCH %q: %v\n", s, err)
			os.Exit(2)
		}
		date = time.Unix(sec, 0).UTC()
	}
	root := NewRoot(&IO{In: os.Stdin, Out: io.Discard, Err: os.Stderr})
	if err := gendocs.Write(root, os.Args[2], Version(), date); err != nil {
		fmt.Fprintln(os.Stderr, "f2b-notify gendocs: "+err.Error())
		os.Exit(1)
	}
	os.Exit(0)
}
