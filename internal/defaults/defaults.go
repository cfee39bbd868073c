// Package defaults holds the paths and names f2b-notify uses when nothing
// else is configured, shared by the full command and the lean ban binary.
package defaults

// Defaults.
const (
	ConfigPath = "/etc/f2b-notify/config.yaml"
	BufferDir  = "/var/lib/f2b-notify"
	Flag       = "/var/run/fail2ban/mail.flag"
	PidFile    = "/var/run/fail2ban/fail2ban.pid" // fail2ban-server's, as fail2ban.conf has it
	EnvPrefix  = "F2B_NOTIFY"
	EnvConfig  = "F2B_NOTIFY_CONFIG"
	// FlushLog is the file, in the buffer folder, that receives the output of
	// a flush the ban path started in the background.
	FlushLog = "last-flush.log"
)
