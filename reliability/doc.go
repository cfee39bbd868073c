// Package reliability holds f2b-notify's reliability and security suite:
// tests that run the real binaries under load, kill flushes at random
// points, break the storage, the channels and the configuration, feed the
// hostile corpus through every command and format, and check that nothing
// is lost, nothing is sent more often than at-least-once allows, and no
// secret leaks.
//
// Every scenario logs one line a script can collect:
//
//	RELIABILITY: scenario=NAME tried=N lost=N duplicated=N leaked=N [key=value ...]
//
// The tests are behind the integration build tag:
// `go test -tags integration -v ./reliability/ | grep RELIABILITY:` gives the figures;
// RELIABILITY.md at the root of the module has the table of a full run.
// RELIABILITY_FULL=1 runs the long sizes (16 writers of 1,000 bans, more
// kills).
package reliability
