package channels

// Apprise: the report handed to the Apprise command-line tool
// (https://github.com/caronc/apprise, Debian's apprise package), which
// knows some hundred services by their URLs (tgram://, mailto://,
// pover://, json://, ...).
//
// Settings of "apprise":
//
//	urls         the Apprise URLs to notify (secrets: they hold the tokens)
//	config_file  or: an Apprise configuration file (text or YAML) naming them
//	program      default apprise, looked up in PATH when building the channel
//	max_chars    cut the report to this many characters; default 32000
//
// The program is run directly, never through a shell, as
//
//	apprise -v --config=TMPFILE --title=SUBJECT
//
// with the plain-text report on its standard input. The URLs are never on its
// command line, which every user can read in /proc: they go into a temporary
// file (mode 0600, in a private folder removed after the run) that --config
// names; a config_file is copied there the same way. A send has the
// channel's timeout: at its end apprise is killed. Its exit status is the
// verdict: 0 delivered; 1 (a service failed) retried, unless every service
// that failed was refused with a final HTTP status (4xx other than 408 and
// 429, as apprise logs it: "error=400"); 2 (a bad argument), 3 (no service in
// the configuration) and "no server URL or populated configuration" are
// final. What apprise printed ends the error, redacted
// and on one line. Apprise sends to every URL it is given at each try: a
// retry after one service failed sends the others the report again.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/f2b-notify/f2b-notify/internal/secret"
)

// appriseSettings are the settings of an apprise channel.
type appriseSettings struct {
	URLs     []string `mapstructure:"urls"`
	Config   string   `mapstructure:"config"` // config_file, read by ResolveFiles
	Program  string   `mapstructure:"program"`
	MaxChars *int     `mapstructure:"max_chars"`
}

// appriseLimit is the default cap of the report, in characters.
const appriseLimit = 32000

// Apprise is a channel that runs the apprise program.
type Apprise struct {
	name    string
	program string
	config  []byte // the configuration apprise reads: one URL per line, or the config_file's content
	yaml    bool   // config is YAML
	secrets []string
	limit   int
}

func newApprise(name string, settings map[string]any) (Channel, error) {
	var s appriseSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	c := &Apprise{name: name, limit: appriseLimit}
	switch {
	case len(s.URLs) > 0 && s.Config != "":
		return nil, fmt.Errorf("channel %q: keys urls and config_file are both set; keep one", name)
	case len(s.URLs) > 0:
		for i, u := range s.URLs {
			if at := strings.IndexFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); at >= 0 {
				return nil, fmt.Errorf("channel %q: key urls: entry %d has a space or control character at byte %d", name, i+1, at)
			}
			if !strings.Contains(u, "://") {
				return nil, fmt.Errorf("channel %q: key urls: entry %d is not an Apprise URL (SCHEMA://...)", name, i+1)
			}
			c.secrets = append(c.secrets, secret.URLParts(u)...)
		}
		c.config = []byte(strings.Join(s.URLs, "\n") + "\n")
	case strings.TrimSpace(s.Config) != "":
		for _, f := range strings.Fields(s.Config) {
			if strings.Contains(f, "://") {
				c.secrets = append(c.secrets, secret.URLParts(strings.Trim(f, `"',`))...)
			}
		}
		c.secrets = append(c.secrets, s.Config)
		c.config = []byte(s.Config + "\n")
		c.yaml = appriseYAML(s.Config)
	default:
		return nil, fmt.Errorf("channel %q: key urls: missing (or config_file: an Apprise configuration file)", name)
	}
	prog := s.Program
	if prog == "" {
		prog = "apprise"
	} else if !filepath.IsAbs(prog) {
		return nil, fmt.Errorf("channel %q: key program: want an absolute path, such as /usr/bin/apprise", name)
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("channel %q: key program: %s not found (install Debian's apprise package, or set program): %w", name, prog, err)
	}
	c.program = path
	if s.MaxChars != nil {
		if *s.MaxChars < 100 {
			return nil, fmt.Errorf("channel %q: key max_chars: want at least 100, got %d", name, *s.MaxChars)
		}
		c.limit = *s.MaxChars
	}
	return c, nil
}

// Name implements Channel.
func (c *Apprise) Name() string { return c.name }

// Formats implements Channel: the plain-text report.
func (c *Apprise) Formats() []Format { return []Format{Text} }

// Limit implements Channel.
func (c *Apprise) Limit() int { return c.limit }

// Program implements Runner: the flush refuses to run a program other users
// can change.
func (c *Apprise) Program() (path, key string) { return c.program, "program" }

// appriseOutput bounds what is kept of apprise's output.
const appriseOutput = 16 << 10

// Send implements Channel: one run of apprise.
func (c *Apprise) Send(ctx context.Context, subject, body string) error {
	dir, err := os.MkdirTemp("", "f2b-notify-apprise-")
	if err != nil {
		return fmt.Errorf("apprise: make a private folder for its configuration: %w", err)
	}
	defer os.RemoveAll(dir)
	// Apprise reads a file's format from its name: .yml for YAML, else text.
	conf := filepath.Join(dir, "apprise.txt")
	if c.yaml {
		conf = filepath.Join(dir, "apprise.yml")
	}
	if err := os.WriteFile(conf, c.config, 0o600); err != nil {
		return fmt.Errorf("apprise: write its configuration: %w", err)
	}
	// -v: its warnings say why a service failed.
	cmd := exec.CommandContext(ctx, c.program, "-v", "--config="+conf, "--title="+strings.Join(strings.Fields(subject), " "))
	cmd.Stdin = strings.NewReader(body)
	var out boundedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = dir
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	said := appriseSaid(out.Bytes(), c.secrets)
	if ctx.Err() != nil {
		return fmt.Errorf("apprise: killed: %w%s", context.Cause(ctx), said)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("apprise: run %s: %w", c.program, err)
	}
	err = fmt.Errorf("apprise: %s%s", ee.ProcessState, said)
	switch code := ee.ExitCode(); {
	case code == 2 || code == 3:
		return Permanent(err)
	case code == 1 && bytes.Contains(out.Bytes(), []byte("You must specify at least one server URL")):
		return Permanent(err)
	case code == 1 && appriseRefused(out.String()):
		return Permanent(err)
	}
	return err
}

// appriseStatus finds the HTTP status apprise logs for a failed service
// ("Failed to send JSON POST notification: Bad Request., error=400.").
var appriseStatus = lazyRegexp(`\berror=([0-9]{3})\b`)

// appriseRefused reports whether every service that failed was refused with
// a final HTTP status (4xx other than 408 and 429): apprise logged such a
// status, no other, and no failure without one (a connection error, a
// timeout).
func appriseRefused(out string) bool {
	codes := appriseStatus().FindAllStringSubmatch(out, -1)
	if len(codes) == 0 || strings.Contains(out, "error occurred") || strings.Contains(out, "timed out") {
		return false
	}
	for _, c := range codes {
		if c[1][0] != '4' || c[1] == "408" || c[1] == "429" {
			return false
		}
	}
	return strings.Count(out, "Failed to send") == len(codes)
}

// appriseYAML reports whether an Apprise configuration is YAML, as apprise
// itself detects it: its first line that is not blank or a comment is
// "KEY: ..." rather than a URL.
func appriseYAML(conf string) bool {
	for _, l := range strings.Split(conf, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		i := strings.IndexByte(l, ':')
		return i > 0 && !strings.HasPrefix(l[i:], "://") && !strings.Contains(l[:i], "=")
	}
	return false
}

// appriseStamp is the time apprise starts its log lines with.
var appriseStamp = lazyRegexp(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - `)

// appriseSaid returns apprise's log lines (its usage text left out), with the
// secrets removed, as ": LINE; LINE" (or "" when it said nothing).
func appriseSaid(out []byte, secrets []string) string {
	text, _, _ := strings.Cut(string(out), "\nUsage:")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(appriseStamp().ReplaceAllString(l, ""))
		if l != "" && !strings.HasPrefix(l, "Usage:") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	if len(lines) == 0 {
		return ""
	}
	return ": " + RedactString(strings.Join(lines, "; "), secrets...)
}

// boundedBuffer keeps the first appriseOutput bytes written to it.
type boundedBuffer struct{ bytes.Buffer }

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := appriseOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
