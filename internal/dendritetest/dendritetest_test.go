//go:build integration

package dendritetest

import (
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestServer starts Dendrite, registers a user, creates a room, sends a
// message with the client API and reads it back: the harness works end to
// end. Run it first (go test -tags integration ./internal/dendritetest) to
// build the server with a long timeout before the channel tests need it.
func TestServer(t *testing.T) {
	start := time.Now()
	s := Start(t)
	t.Logf("Dendrite %s answering on %s after %s", Version, s.URL(), time.Since(start).Round(time.Millisecond))
	token := s.Register(t, "harness")
	room := s.CreateRoom(t, token)
	s.AddAlias(t, token, "#harness:"+ServerName, room)
	id := s.Send(t, token, room, "hello")
	var found bool
	for deadline := time.Now().Add(20 * time.Second); !found && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, ev := range s.Messages(t, token, room) {
			if ev.Type != "m.room.message" {
				continue
			}
			var c struct{ Body string }
			if err := json.Unmarshal(ev.Content, &c); err != nil {
				t.Fatal(err)
			}
			if ev.EventID != id || c.Body != "hello" || ev.Sender != UserID("harness") {
				t.Errorf("message %s from %s, body %q, want event %s from %s", ev.EventID, ev.Sender, c.Body, id, UserID("harness"))
			}
			found = true
		}
	}
	if !found {
		t.Error("the message sent is not in the room after 20s")
	}

	// The server stops by its PID at cleanup; here by hand, to check it.
	stop(s.cmd, s.exited)
	if err := s.cmd.Process.Signal(syscall.Signal(0)); err == nil {
		t.Errorf("dendrite (PID %d) still running after stop", s.cmd.Process.Pid)
	}
}

func TestPathEscape(t *testing.T) {
	for in, want := range map[string]string{
		"!abc:localhost":   "%21abc%3Alocalhost",
		"#ops:example.org": "%23ops%3Aexample.org",
		"a/b?c d":          "a%2Fb%3Fc%20d",
		"AZaz09-._~":       "AZaz09-._~",
	} {
		if got := PathEscape(in); got != want {
			t.Errorf("PathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCacheDirFollowsXDG(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	got, err := CacheDir()
	if err != nil || got != "/x/cache/f2b-notify-tests/dendrite-"+Version {
		t.Errorf("CacheDir() = %q, %v", got, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	home, _ := os.UserHomeDir()
	if got, _ := CacheDir(); got != home+"/.cache/f2b-notify-tests/dendrite-"+Version {
		t.Errorf("CacheDir() without XDG_CACHE_HOME = %q", got)
	}
}
