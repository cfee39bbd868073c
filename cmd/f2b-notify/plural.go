package main

import "strconv"

// count says n things, in the singular for one: count(1, "batch",
// "batches") is "1 batch", count(3, ...) "3 batches".
func count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + plural(n, one, many)
}

// plural is one for n == 1, else many: a word that agrees with a count.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ofChannels says how many of total channels an outcome concerns: "channel
// log" when it is the only one, "all 3 channels", "1 of 3 channels".
func ofChannels(names []string, total int) string {
	switch {
	case len(names) == 1 && total == 1:
		return "channel " + names[0]
	case len(names) == total:
		return "all " + count(total, "channel", "channels")
	}
	return strconv.Itoa(len(names)) + " of " + count(total, "channel", "channels")
}
