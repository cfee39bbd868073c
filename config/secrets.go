package config

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/secret"
)

// Warnings lists what is unsafe in the configuration without being wrong:
// for now, files holding secrets that other users can read. A secret is the
// value of a key that holds credentials in some channel kind (password,
// token, access_token, webhook_url, url, inline or as KEY_file: see
// channels.Kinds) or of a header
// whose name says it carries one (Authorization, X-Api-Key, anything with
// token, secret, key, auth, ...). Each warning is one line.
func (c *Config) Warnings() []string {
	var out []string
	seen := map[string]bool{}
	warn := func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm()&0o044 == 0 {
			return
		}
		out = append(out, fmt.Sprintf("warning: %s is readable by other users and holds secrets; chmod 600 %s", path, path))
	}
	for _, name := range sortedChannelNames(c) {
		for k, v := range c.Channels[name].Settings {
			base, isFile := strings.CutSuffix(k, "_file")
			if base == "headers" && !isFile && secret.Headers(v) && c.File != "" {
				warn(c.File)
			}
			if !channels.SecretKey(base) {
				continue
			}
			if isFile {
				if p, ok := v.(string); ok && p != "" {
					warn(p)
				}
			} else if c.File != "" {
				warn(c.File)
			}
		}
	}
	return out
}

// Secrets lists every secret of every channel, enabled or not (see
// secret.Values), so that they can be redacted from whatever f2b-notify
// prints or stores, whichever key or message they turn up in.
func (c *Config) Secrets() []string {
	var out []string
	for _, name := range sortedChannelNames(c) {
		out = append(out, secret.Values(c.Channels[name].Settings, channels.SecretKey)...)
	}
	return out
}

func sortedChannelNames(c *Config) []string {
	names := make([]string, 0, len(c.Channels))
	for n := range c.Channels {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
