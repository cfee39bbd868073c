package main

import (
	"strconv"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// ofChannels says how many of total channels an outcome concerns: "channel
// log" when it is the only one, "all 3 channels", "1 of 3 channels".
func ofChannels(names []string, total int) string {
	switch {
	case len(names) == 1 && total == 1:
		return "channel " + names[0]
	case len(names) == total:
		return "all " + textutil.Count(total, "channel", "channels")
	}
	return strconv.Itoa(len(names)) + " of " + textutil.Count(total, "channel", "channels")
}
