package config

import "github.com/f2b-notify/f2b-notify/internal/fsguard"

// Unsafe returns why the configuration file or the buffer folder could be
// changed by a user other than root or the one running f2b-notify, as sshd's
// StrictModes checks a user's files: the file or folder, or a folder above
// it, is owned by another user or writable by group or others. nil when both
// are safe. A command that would act on them refuses them; see
// fsguard.Check.
func (c *Config) Unsafe() error { return fsguard.CheckSetup(c.File, c.Buffer.Dir) }
