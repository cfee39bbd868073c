//go:build integration

package channels_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// appriseFake is the endpoint of an Apprise json:// URL: it records what
// arrives and answers with status (0: 200; -1: no answer until the test ends).
type appriseFake struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	received []map[string]any
	paths    []string
}

func startAppriseFake(t *testing.T) *appriseFake {
	f := &appriseFake{}
	release := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		f.mu.Lock()
		f.received = append(f.received, m)
		f.paths = append(f.paths, r.URL.RequestURI())
		status := f.status
		f.mu.Unlock()
		switch status {
		case -1:
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case 0:
			fmt.Fprint(w, "{}")
		default:
			w.WriteHeader(status)
			fmt.Fprintf(w, "refused %s %s", r.URL.RequestURI(), b) // echoes the request
		}
	}))
	t.Cleanup(func() { close(release); f.Close() })
	return f
}

func (f *appriseFake) set(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.received, f.paths = status, nil, nil
}

func (f *appriseFake) got() ([]map[string]any, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received, f.paths
}

// appriseURL is the fake's json:// URL, with a secret in its path.
const appriseSecret = "s3cr3t-hook-Qm7vXw2p"

func (f *appriseFake) url() string {
	return "json://" + strings.TrimPrefix(f.URL, "http://") + "/hooks/" + appriseSecret
}

// appriseArgv returns a program that records its arguments in file, then
// runs the real apprise.
func appriseArgv(t *testing.T, apprise, file string) string {
	p := filepath.Join(t.TempDir(), "apprise-argv")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %q\nexec %q \"$@\"\n", file, apprise)
	if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAppriseJSON(t *testing.T) {
	apprise := testenv.NeedCommand(t, "apprise", "apprise")
	f := startAppriseFake(t)
	argv := filepath.Join(t.TempDir(), "argv")
	ch, err := channels.New("ap", "apprise", map[string]any{"urls": []any{f.url()}, "program": appriseArgv(t, apprise, argv)})
	if err != nil {
		t.Fatal(err)
	}
	subject, body := "fail2ban report for host1", "3 bans\n192.0.2.7 sshd <b>&amp;</b> $(id) `id`\n-b --title"
	if v := nbDeliver(ch, subject, body, 30*time.Second); v.Err != nil || v.Attempts != 1 {
		t.Fatalf("send: %+v", v)
	}
	got, paths := f.got()
	if len(got) != 1 || got[0]["title"] != subject || got[0]["message"] != body || got[0]["type"] != "info" {
		t.Fatalf("the endpoint received %v, want one notification with the title and the report", got)
	}
	if paths[0] != "/hooks/"+appriseSecret {
		t.Errorf("posted to %s", paths[0])
	}
	args, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(args), appriseSecret) || strings.Contains(string(args), "json://") || strings.Contains(string(args), "192.0.2.7") {
		t.Errorf("apprise's command line, which every user can read, shows a URL or the report:\n%s", args)
	}
	if conf := strings.TrimPrefix(strings.Split(string(args), "\n")[1], "--config="); !strings.HasPrefix(conf, os.TempDir()) {
		t.Errorf("config %q", conf)
	} else if _, err := os.Stat(conf); !os.IsNotExist(err) {
		t.Errorf("the temporary configuration %s is still there after the send (%v)", conf, err)
	}
}

func TestAppriseConfigFile(t *testing.T) {
	testenv.NeedCommand(t, "apprise", "apprise")
	f := startAppriseFake(t)
	conf := filepath.Join(t.TempDir(), "apprise.yml")
	if err := os.WriteFile(conf, []byte("urls:\n  - "+f.url()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ch, err := channels.New("ap", "apprise", map[string]any{"config_file": conf})
	if err != nil {
		t.Fatal(err)
	}
	if v := nbDeliver(ch, "s", "report", 30*time.Second); v.Err != nil {
		t.Fatal(v.Err)
	}
	if got, _ := f.got(); len(got) != 1 || got[0]["message"] != "report" {
		t.Errorf("received %v", got)
	}
}

func TestAppriseVerdicts(t *testing.T) {
	testenv.NeedCommand(t, "apprise", "apprise")
	f := startAppriseFake(t)
	ch, err := channels.New("ap", "apprise", map[string]any{"urls": []any{f.url()}})
	if err != nil {
		t.Fatal(err)
	}
	// Apprise exits 1 for any service that failed, and logs the HTTP status:
	// a 4xx is final, a 5xx or a 429 retried.
	for _, c := range []struct {
		status, attempts int
		says             string
	}{{500, 3, "error=500"}, {429, 3, "error=429"}, {400, 1, "error=400"}, {401, 1, "error=401"}} {
		f.set(c.status)
		v := nbDeliver(ch, "s", "r", 30*time.Second)
		if v.Err == nil || v.Attempts != c.attempts || channels.IsPermanent(v.Err) != (c.attempts == 1) || !strings.Contains(v.Err.Error(), "exit status 1: WARNING - Failed to send JSON") || !strings.Contains(v.Err.Error(), c.says) {
			t.Errorf("answer %d: %d attempts, %v; want %d attempts and apprise's reason", c.status, v.Attempts, v.Err, c.attempts)
		}
		if v.Err != nil && (strings.Contains(v.Err.Error(), appriseSecret) || strings.Contains(v.Err.Error(), "\n")) {
			t.Errorf("answer %d: error shows the URL's secret or spans lines: %v", c.status, v.Err)
		}
	}
	// A service refused and another one down: retried.
	both, err := channels.New("ap", "apprise", map[string]any{"urls": []any{f.url(), "json://127.0.0.1:9/"}})
	if err != nil {
		t.Fatal(err)
	}
	f.set(400)
	if v := nbDeliver(both, "s", "r", 30*time.Second); v.Err == nil || v.Attempts != 3 {
		t.Errorf("one service refused, one down: %d attempts, %v; want 3", v.Attempts, v.Err)
	}

	// No answer: apprise is killed at the channel's timeout.
	f.set(-1)
	start := time.Now()
	v := nbDeliver(ch, "s", "r", 1500*time.Millisecond)
	if took := time.Since(start); v.Err == nil || took > 15*time.Second || !strings.Contains(v.Err.Error(), "killed: timed out after 1.5s") {
		t.Errorf("no answer: %v after %s; want apprise killed at each attempt's timeout", v.Err, took)
	}

	// A configuration without a URL is final.
	conf := filepath.Join(t.TempDir(), "empty.conf")
	if err := os.WriteFile(conf, []byte("# nothing here yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty, err := channels.New("ap", "apprise", map[string]any{"config_file": conf})
	if err != nil {
		t.Fatal(err)
	}
	if v := nbDeliver(empty, "s", "r", 30*time.Second); v.Err == nil || v.Attempts != 1 || !channels.IsPermanent(v.Err) || !strings.Contains(v.Err.Error(), "You must specify at least one server URL") {
		t.Errorf("empty configuration: %d attempts, %v; want a final error saying so", v.Attempts, v.Err)
	}
}

func TestAppriseSettings(t *testing.T) {
	testenv.NeedCommand(t, "apprise", "apprise")
	conf := filepath.Join(t.TempDir(), "a.conf")
	if err := os.WriteFile(conf, []byte("json://localhost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		settings map[string]any
		want     string
	}{
		{map[string]any{}, "key urls: missing"},
		{map[string]any{"urls": []any{"json://a", "not a url"}}, "entry 2 has a space"},
		{map[string]any{"urls": []any{"localhost"}}, "entry 1 is not an Apprise URL"},
		{map[string]any{"urls": []any{"json://a"}, "config_file": conf}, "keep one"},
		{map[string]any{"urls": []any{"json://a"}, "program": "/nonexistent/apprise"}, `key program: /nonexistent/apprise not found (install Debian's apprise package`},
		{map[string]any{"urls": []any{"json://a"}, "program": "apprise"}, "key program: want an absolute path"},
		{map[string]any{"urls": []any{"json://a"}, "max_chars": 10}, "key max_chars"},
	} {
		_, err := channels.New("ap", "apprise", c.settings)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", c.settings, err, c.want)
		}
	}
}
