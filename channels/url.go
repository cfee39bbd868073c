package channels

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// checkURL checks that raw, the value of key, is an http or https URL
// with a host. The error never shows the URL, which may hold a token.
func checkURL(name, key, raw string) error {
	if _, err := parseHTTPURL(raw); err != nil {
		return fmt.Errorf("channel %q: key %s: %w", name, key, err)
	}
	return nil
}

// parseHTTPURL parses an endpoint from the configuration: an http:// or
// https:// URL with a host, and no space or control character anywhere (a
// pasted URL cut or joined by a line break or a space is a mistake, not a
// path). The error never shows the URL, which may hold a token.
func parseHTTPURL(raw string) (*url.URL, error) {
	if i := strings.IndexFunc(raw, textutil.IsBlankOrControl); i >= 0 {
		return nil, fmt.Errorf("URL has a space or control character at byte %d", i)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http:// or https:// URL with a host")
	}
	if strings.HasPrefix(u.Host, ":") {
		return nil, errors.New("URL has a port but no host name")
	}
	return u, nil
}

// Endpoint shows a URL without what may be secret in it: scheme and host
// only ("https://hooks.slack.com").
func Endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// lazyRegexp compiles expr the first time it is used, so that a command
// that sends nothing (--help, check of another part) does not pay at start
// for the patterns of every kind: they were half of the package's start-up.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
