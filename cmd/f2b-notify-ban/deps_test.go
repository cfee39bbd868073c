package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeanDependencies keeps the lean ban path lean: every package it links
// is paid for at each ban, and fail2ban runs one action at a time. A
// configuration framework, a YAML library, templates, regular expressions or
// a network client here would add milliseconds to every ban on the host.
func TestLeanDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{
		"github.com/spf13/", "go.yaml.in/", "gopkg.in/yaml", "text/template", "html/template",
		"regexp", "net/http", "net/smtp", "crypto/tls", "github.com/wneessen/",
		"github.com/f2b-notify/f2b-notify/config", "github.com/f2b-notify/f2b-notify/channels",
		"github.com/f2b-notify/f2b-notify/templates", "github.com/f2b-notify/f2b-notify/report",
		"github.com/f2b-notify/f2b-notify/render", "github.com/f2b-notify/f2b-notify/flush",
		"github.com/f2b-notify/f2b-notify/internal/geoip", "github.com/f2b-notify/f2b-notify/internal/chart",
		"github.com/f2b-notify/f2b-notify/internal/history", "github.com/f2b-notify/f2b-notify/internal/netgroup",
		"github.com/oschwald/", "github.com/maxmind/", "github.com/go-analyze/", "github.com/nikoksr/",
		"github.com/prometheus/", "google.golang.org/protobuf/",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f) && (strings.HasSuffix(f, "/") || d[len(f)] == '/') {
				t.Errorf("f2b-notify-ban links %s", d)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages: %q", len(deps), deps)
	}
}
