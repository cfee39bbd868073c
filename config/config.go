// Package config loads f2b-notify's configuration: a YAML file read with
// viper, overridden by F2B_NOTIFY_* environment variables, decoded into typed
// structs where unknown keys and values of the wrong type are errors that name
// the file and the key.
//
// Channel blocks are decoded in two steps: the keys every channel has (type,
// enabled, timeout, templates, ...) here, the rest by the channel's kind in
// package channels, so that loading the configuration on the ban path reads no
// secret and builds no channel.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/bankeys"
	"github.com/f2b-notify/f2b-notify/internal/decode"
	"github.com/f2b-notify/f2b-notify/internal/defaults"
	"github.com/f2b-notify/f2b-notify/internal/netgroup"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
	"github.com/spf13/viper"
)

// Defaults.
const (
	DefaultPath      = defaults.ConfigPath
	DefaultBufferDir = defaults.BufferDir
	DefaultFlag      = defaults.Flag
	EnvPrefix        = defaults.EnvPrefix
	EnvConfig        = defaults.EnvConfig
)

// Config is the whole configuration.
type Config struct {
	Buffer   Buffer             `mapstructure:"buffer"`
	Flag     string             `mapstructure:"flag"` // flag file that makes the next ban start a flush; "" disables
	Host     string             `mapstructure:"host"` // shown in reports; default: the host name
	Report   Report             `mapstructure:"report"`
	Flush    Flush              `mapstructure:"flush"`
	Metrics  Metrics            `mapstructure:"metrics"`
	GeoIP    GeoIP              `mapstructure:"geoip"`
	History  History            `mapstructure:"history"`
	Fail2ban Fail2ban           `mapstructure:"fail2ban"`
	Channels map[string]Channel `mapstructure:"channels"`

	// File is the file the configuration was read from; "" for defaults only.
	File string `mapstructure:"-"`
}

// Buffer configures where bans wait for a report, and for how long.
type Buffer struct {
	Dir       string        `mapstructure:"dir"`
	Fsync     bool          `mapstructure:"fsync"`
	MaxAge    time.Duration `mapstructure:"max_age"`     // batches older than this are dropped (counted)
	MaxSizeMB int64         `mapstructure:"max_size_mb"` // spool beyond this drops its oldest batches (counted)
}

// Report configures the digest.
type Report struct {
	Timezone        string   `mapstructure:"timezone"` // IANA zone for dates in reports; "Local" or "" for the host's
	MaxUsers        int      `mapstructure:"max_users"`
	MaxMatches      int      `mapstructure:"max_matches"`
	MaxOffenders    int      `mapstructure:"max_offenders"` // offender rows, the worst first; 0 for all
	IncludeRestored bool     `mapstructure:"include_restored"`
	SendEmpty       bool     `mapstructure:"send_empty"` // a flush with no ban for a channel sends it a short report saying so
	Subject         string   `mapstructure:"subject"`    // text template; "" for the default
	Networks        Networks `mapstructure:"networks"`
}

// Networks configures the rollup of banned addresses into networks.
type Networks struct {
	IPv4Prefix int `mapstructure:"ipv4_prefix"` // bits of an IPv4 network: 24
	IPv6Prefix int `mapstructure:"ipv6_prefix"` // bits of an IPv6 network: 64
	Top        int `mapstructure:"top"`         // networks, providers and countries listed
}

// GeoIP names the MaxMind-format databases that tell each address's provider
// and country; "" leaves that out.
type GeoIP struct {
	ASNDB     string `mapstructure:"asn_db"`
	CountryDB string `mapstructure:"country_db"`
}

// History configures the record of past reports kept beside the buffer
// (BUFFER_DIR/history).
type History struct {
	Enabled      bool          `mapstructure:"enabled"`
	MaxAge       time.Duration `mapstructure:"max_age"`       // reports and addresses older than this are forgotten; 0 keeps them
	MaxAddresses int           `mapstructure:"max_addresses"` // addresses kept at most, the last reported longest ago forgotten first; 0 for no bound
}

// HistoryFile is the history's file in the buffer folder.
func (c *Config) HistoryFile() string { return filepath.Join(c.Buffer.Dir, buffer.HistoryFile) }

// Fail2ban says where to see whether fail2ban runs, for the report
// without bans (report.send_empty).
type Fail2ban struct {
	// PidFile is fail2ban-server's pid file (fail2ban.conf's pidfile); ""
	// says nothing of fail2ban.
	PidFile string `mapstructure:"pidfile"`
}

// Flush bounds a whole flush.
type Flush struct {
	Timeout time.Duration `mapstructure:"timeout"`
}

// Metrics configures the Prometheus metrics that each flush writes.
type Metrics struct {
	// Textfile is the file, in node_exporter's textfile-collector format,
	// replaced at each flush; "" writes none.
	Textfile string `mapstructure:"textfile"`
}

// Channel holds the keys every channel has; Settings holds the rest, decoded
// by the channel's kind.
type Channel struct {
	Type      string            `mapstructure:"type"`
	Enabled   *bool             `mapstructure:"enabled"`
	Timeout   time.Duration     `mapstructure:"timeout"` // one attempt
	Retries   *int              `mapstructure:"retries"` // attempts after the first
	Subject   string            `mapstructure:"subject"`
	Templates map[string]string `mapstructure:"templates"` // format -> template file
	Jails     []string          `mapstructure:"jails"`     // only bans of these jails; empty for all
	MinBans   int               `mapstructure:"min_bans"`  // hold the report until it has this many bans
	// Attachments lists what goes with the report where the channel can
	// carry files: "chart", "full_list". Unset is both; [] is none.
	Attachments *[]string      `mapstructure:"attachments"`
	Settings    map[string]any `mapstructure:",remain"`
}

// AttachmentNames are the values of a channel's attachments key.
var AttachmentNames = []string{"chart", "full_list"}

// Takes reports whether the channel's attachments key lets the report carry
// the attachment named (one of AttachmentNames).
func (c Channel) Takes(name string) bool {
	return c.Attachments == nil || slices.Contains(*c.Attachments, name)
}

// IsEnabled reports whether the channel takes part in flushes.
func (c Channel) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Attempts is the number of tries a send gets.
func (c Channel) Attempts() int {
	if c.Retries == nil {
		return 3
	}
	return *c.Retries + 1
}

// ErrNotFound is wrapped by Load when the configuration file does not exist.
var ErrNotFound = errors.New("configuration file not found")

var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func setDefaults(v *viper.Viper) {
	// buffer.dir, buffer.fsync and flag are read by package bankeys (see
	// decodeConfig); their defaults here only make viper know the keys.
	ban := bankeys.Defaults()
	v.SetDefault(bankeys.Dir, ban.Dir)
	v.SetDefault(bankeys.Fsync, ban.Fsync)
	v.SetDefault("buffer.max_age", "720h")
	v.SetDefault("buffer.max_size_mb", 256)
	v.SetDefault(bankeys.Flag, ban.Flag)
	v.SetDefault("host", "")
	v.SetDefault("report.timezone", "Local")
	v.SetDefault("report.max_users", 5)
	v.SetDefault("report.max_matches", 3)
	v.SetDefault("report.max_offenders", 1000)
	v.SetDefault("report.include_restored", false)
	v.SetDefault("report.send_empty", false)
	v.SetDefault("report.subject", "")
	v.SetDefault("report.networks.ipv4_prefix", 24)
	v.SetDefault("report.networks.ipv6_prefix", 64)
	v.SetDefault("report.networks.top", 5)
	v.SetDefault("flush.timeout", "5m")
	v.SetDefault("metrics.textfile", "")
	v.SetDefault("geoip.asn_db", "")
	v.SetDefault("geoip.country_db", "")
	v.SetDefault("history.enabled", true)
	v.SetDefault("history.max_age", "90d")
	v.SetDefault("history.max_addresses", 1_000_000)
	v.SetDefault("fail2ban.pidfile", defaults.PidFile)
}

// Path returns the configuration file to use: the flag's value if set, else
// $F2B_NOTIFY_CONFIG, else DefaultPath.
func Path(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	return DefaultPath
}

// Load reads and validates the configuration file at path. A missing file is
// an error wrapping ErrNotFound.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config %s: %w", path, ErrNotFound)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	doc, err := parseRaw(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %s", path, textutil.OneLine(err.Error()))
	}
	v := newViper()
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config %s: %s", path, textutil.OneLine(err.Error()))
	}
	c, err := decodeConfig(v, doc)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.File = path
	return c, nil
}

// Defaults returns the configuration with no file: defaults and environment.
func Defaults() (*Config, error) {
	c, err := decodeConfig(newViper(), nil)
	if err != nil {
		return nil, fmt.Errorf("config from environment: %w", err)
	}
	return c, nil
}

func newViper() *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	setDefaults(v)
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	return v
}

// decodeConfig decodes what viper read; doc is the file as parsed (nil for
// none), from which the keys the ban path reads are taken with the ban
// path's own reader, so that no command can disagree on where bans go.
func decodeConfig(v *viper.Viper, doc map[string]any) (*Config, error) {
	var c Config
	if err := decode.Explain(v.Unmarshal(&c, decode.Configure), "", &c); err != nil {
		return nil, err
	}
	s, err := bankeys.Read(doc, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	c.Buffer.Dir, c.Buffer.Fsync, c.Flag = s.Dir, s.Fsync, s.Flag
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks values that decoding cannot: required keys, ranges, names.
func (c *Config) Validate() error {
	if c.Buffer.Dir == "" {
		return errors.New("key buffer.dir: must not be empty")
	}
	if c.Buffer.MaxAge < 0 {
		return errors.New("key buffer.max_age: must not be negative")
	}
	if c.Buffer.MaxSizeMB < 0 {
		return errors.New("key buffer.max_size_mb: must not be negative")
	}
	if c.Flush.Timeout <= 0 {
		return errors.New("key flush.timeout: must be positive, such as 5m")
	}
	if c.Report.MaxUsers < 0 || c.Report.MaxMatches < 0 || c.Report.MaxOffenders < 0 {
		return errors.New("keys report.max_users, report.max_matches and report.max_offenders: must not be negative")
	}
	if _, err := c.Location(); err != nil {
		return err
	}
	if c.Metrics.Textfile != "" {
		if err := bankeys.CheckPath("metrics.textfile", c.Metrics.Textfile); err != nil {
			return err
		}
	}
	if err := c.Report.Networks.check(); err != nil {
		return err
	}
	for key, p := range map[string]string{"geoip.asn_db": c.GeoIP.ASNDB, "geoip.country_db": c.GeoIP.CountryDB, "fail2ban.pidfile": c.Fail2ban.PidFile} {
		if p == "" {
			continue // that part of the report left out, or nothing said of fail2ban
		}
		if err := bankeys.CheckPath(key, p); err != nil {
			return err
		}
	}
	if c.History.MaxAge < 0 {
		return errors.New("key history.max_age: must not be negative (0 keeps every report)")
	}
	if c.History.MaxAddresses < 0 {
		return errors.New("key history.max_addresses: must not be negative (0 for no bound)")
	}
	for name, ch := range c.Channels {
		if !channelName.MatchString(name) {
			return fmt.Errorf("key channels.%s: a channel name is 1-64 of a-z, 0-9, '-' and '_'", name)
		}
		if ch.Type == "" {
			return fmt.Errorf("key channels.%s.type: missing (such as sendmail, smtp, file)", name)
		}
		if ch.Timeout < 0 {
			return fmt.Errorf("key channels.%s.timeout: must not be negative", name)
		}
		if ch.MinBans < 0 {
			return fmt.Errorf("key channels.%s.min_bans: must not be negative", name)
		}
		if ch.Retries != nil && *ch.Retries < 0 {
			return fmt.Errorf("key channels.%s.retries: must not be negative", name)
		}
		if ch.Attachments != nil {
			for _, a := range *ch.Attachments {
				if !slices.Contains(AttachmentNames, a) {
					return fmt.Errorf("key channels.%s.attachments: unknown attachment %q (want %s, or [] for none)", name, a, strings.Join(AttachmentNames, ", "))
				}
			}
		}
		for f, file := range ch.Templates {
			if _, err := templates.Lookup(templates.Format(f)); err != nil {
				return fmt.Errorf("key channels.%s.templates.%s: %w", name, f, err)
			}
			if err := bankeys.CheckPath(fmt.Sprintf("channels.%s.templates.%s", name, f), file); err != nil {
				return err
			}
		}
		if err := ch.checkPaths(name); err != nil {
			return err
		}
	}
	return nil
}

func (n Networks) check() error {
	if err := netgroup.CheckBits(n.IPv4Prefix, n.IPv6Prefix); err != nil {
		return fmt.Errorf("keys report.networks.ipv4_prefix and report.networks.ipv6_prefix: %w", err)
	}
	if n.Top < 1 || n.Top > 100 {
		return fmt.Errorf("key report.networks.top: %d is not between 1 and 100", n.Top)
	}
	return nil
}

// checkPaths refuses a relative path in the channel keys that name a file:
// path (a file channel's; "-" is standard output), sendmail and every
// KEY_file (such as password_file, or ca_file, whose ca is a PEM bundle). Every command, and fail2ban's flush from its own working folder,
// must read the same file.
func (c Channel) checkPaths(name string) error {
	for _, k := range slices.Sorted(maps.Keys(c.Settings)) {
		if k != "path" && k != "sendmail" && !strings.HasSuffix(k, "_file") {
			continue
		}
		p, ok := c.Settings[k].(string)
		if !ok || p == "" || k == "path" && p == "-" {
			continue // a wrong type or an empty value is the channel's to name
		}
		if err := bankeys.CheckPath("channels."+name+"."+k, p); err != nil {
			return err
		}
	}
	return nil
}

// Location is the time zone for dates in reports.
func (c *Config) Location() (*time.Location, error) {
	switch c.Report.Timezone {
	case "", "Local", "local":
		return time.Local, nil
	}
	loc, err := time.LoadLocation(c.Report.Timezone)
	if err != nil {
		return nil, fmt.Errorf("key report.timezone: %w", err)
	}
	return loc, nil
}

// Hostname is the host name shown in reports.
func (c *Config) Hostname() string {
	if c.Host != "" {
		return c.Host
	}
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

// EnabledChannels lists the names of the enabled channels, sorted.
func (c *Config) EnabledChannels() []string { return c.channelNames(true) }

// DisabledChannels lists the names of the channels set enabled: false,
// sorted.
func (c *Config) DisabledChannels() []string { return c.channelNames(false) }

func (c *Config) channelNames(enabled bool) []string {
	var out []string
	for name, ch := range c.Channels {
		if ch.IsEnabled() == enabled {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
