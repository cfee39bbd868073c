package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// secretKeys are the channel keys that hold credentials, inline or, with
// the _file suffix, in a file.
var secretKeys = []string{"password", "token", "access_token", "webhook_url", "url", "api_key", "secret"}

// Warnings lists what is unsafe in the configuration without being wrong:
// for now, files holding secrets that other users can read. Each warning is
// one line.
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
			if !slices.Contains(secretKeys, base) {
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

func sortedChannelNames(c *Config) []string {
	names := make([]string, 0, len(c.Channels))
	for n := range c.Channels {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
