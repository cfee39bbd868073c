// Package e2e proves f2b-notify against a real fail2ban: the shipped action
// file, run by a private fail2ban-server (internal/f2btest), calls the
// binary as built for release (CGO_ENABLED=0), which mails its reports
// through Debian's msmtp to an SMTP server on 127.0.0.1 (internal/smtpsink).
// The package holds only tests, behind the integration build tag:
// `go test -tags integration ./e2e/` runs them.
package e2e
