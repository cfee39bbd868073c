// Package dendritetest runs a real Matrix homeserver for tests: Dendrite
// (github.com/matrix-org/dendrite, Apache-2.0; not the AGPL fork), built from
// the Go module proxy on first use and started on 127.0.0.1 with a fresh
// configuration and SQLite databases in the test's temporary directory.
//
// The build is cached outside the checkout, in
// ${XDG_CACHE_HOME:-$HOME/.cache}/f2b-notify-tests/dendrite-VERSION/, so only
// the first run on a machine pays for it (several minutes on two cores); a
// file lock keeps parallel test binaries from building it twice. Dendrite is
// built with cgo (mattn/go-sqlite3) when a C compiler is found, else with its
// pure-Go SQLite (modernc.org/sqlite, chosen by Dendrite's !cgo build tag).
//
// The server has federation disabled, registration closed except through the
// shared secret (/_synapse/admin/v1/register), rate limiting off and JetStream
// in memory. A failure to build or start it fails the test; it never skips.
package dendritetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

const (
	// Module is the Go module Dendrite is built from.
	Module = "github.com/matrix-org/dendrite"
	// Version is the Dendrite release the tests run against.
	Version = "v0.13.8"
	// ServerName is the homeserver's name: user IDs end in ":localhost".
	ServerName = "localhost"

	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

var (
	buildMu  sync.Mutex
	built    string // path of the binary, once built or found
	buildErr error
)

// CacheDir is where the Dendrite binary is kept between runs.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir() // $XDG_CACHE_HOME, else $HOME/.cache
	if err != nil {
		return "", fmt.Errorf("dendritetest: no cache directory: %w", err)
	}
	return filepath.Join(base, "f2b-notify-tests", "dendrite-"+Version), nil
}

// Binary returns the path of the Dendrite binary, building it first if the
// cache does not have it. It fails the test, with the build's output, if the
// build fails.
func Binary(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if built == "" && buildErr == nil {
		built, buildErr = build(t)
	}
	if buildErr != nil {
		t.Fatalf("dendritetest: %v", buildErr)
	}
	return built
}

// build installs cmd/dendrite into the cache directory unless it is there.
// Another process building at the same time is waited for (file lock); the
// binary is installed into a temporary directory and renamed into place, so
// a half-written binary is never used.
func build(t testing.TB) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dendrite")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cache directory: %w", err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	if err := lock.Lock(); err != nil {
		return "", fmt.Errorf("lock %s: %w", dir, err)
	}
	defer lock.Unlock()
	if isExecutable(bin) { // built by another process while we waited
		return bin, nil
	}
	goCmd, err := exec.LookPath("go") // go test puts its own GOROOT/bin first in PATH
	if err != nil {
		return "", fmt.Errorf("building Dendrite needs the go command: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	cgo := "0"
	if hasCCompiler() {
		cgo = "1"
	}
	t.Logf("dendritetest: building %s@%s into %s (CGO_ENABLED=%s); the first build takes minutes", Module, Version, dir, cgo)
	start := time.Now()
	cmd := exec.Command(goCmd, "install", Module+"/cmd/dendrite@"+Version)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(os.Environ(),
		"GOBIN="+tmp,
		"CGO_ENABLED="+cgo,
		"GOFLAGS=-buildvcs=false",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go install %s/cmd/dendrite@%s (CGO_ENABLED=%s) failed after %s: %v\n%s",
			Module, Version, cgo, time.Since(start).Round(time.Second), err, tail(out, 4000))
	}
	if err := os.Rename(filepath.Join(tmp, "dendrite"), bin); err != nil {
		return "", fmt.Errorf("install the Dendrite binary: %w", err)
	}
	t.Logf("dendritetest: built Dendrite in %s", time.Since(start).Round(time.Second))
	return bin, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func hasCCompiler() bool {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	_, err := exec.LookPath(strings.Fields(cc + " x")[0])
	return err == nil
}

// tail returns at most the last n bytes of b.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Server is a running Dendrite.
type Server struct {
	url    string
	dir    string
	secret string
	opt    Options
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has ended
	client *http.Client  // for the harness's own calls
}

// Options change the server's configuration from the defaults.
type Options struct {
	// MaxUploadBytes is the largest file the media repository takes
	// (media_api.max_file_size_bytes); 0 keeps Dendrite's 10 MiB.
	MaxUploadBytes int64
}

// Start builds Dendrite if needed, starts it on a free port of 127.0.0.1 and
// waits until it answers. The server is stopped (by its PID) when the test
// ends, whether it passed or not.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with a configuration changed by opt.
func StartWith(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	s := &Server{dir: dir, secret: randomHex(t, 16), opt: opt, client: &http.Client{Timeout: 30 * time.Second}}
	if err := s.writeConfig(); err != nil {
		t.Fatalf("dendritetest: %v", err)
	}
	var err error
	for try := 0; try < 3; try++ { // a port taken between the probe and the bind: try another
		if err = s.start(t, bin); err == nil {
			return s
		}
	}
	t.Fatalf("dendritetest: %v", err)
	return nil
}

// start runs the binary once and waits for it to answer.
func (s *Server) start(t testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logPath := filepath.Join(s.dir, "dendrite.out")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "-config", filepath.Join(s.dir, "dendrite.yaml"), "-http-bind-address", addr)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = withoutVar(os.Environ(), "PPROFLISTEN") // Dendrite would open a pprof listener
	// If the test binary dies without running its cleanups (a panic, a
	// timeout), the kernel kills the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.url = cmd, exited, "http://"+addr
	t.Cleanup(func() { stop(cmd, exited) })

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("dendrite exited at start (%v):\n%s", cmd.ProcessState, tail(out, 4000))
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := s.client.Get(s.url + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	stop(cmd, exited)
	out, _ := os.ReadFile(logPath)
	return fmt.Errorf("dendrite did not answer on %s within %s:\n%s", addr, startTimeout, tail(out, 4000))
}

// stop ends a server process by its PID: SIGTERM, then SIGKILL if it
// lingers. exited is closed when the process has been waited for.
func stop(cmd *exec.Cmd, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// writeConfig writes the signing key and dendrite.yaml into the server's
// directory.
func (s *Server) writeConfig() error {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "MATRIX PRIVATE KEY", Headers: map[string]string{"Key-ID": "ed25519:test"}, Bytes: seed})
	if err := os.WriteFile(filepath.Join(s.dir, "matrix_key.pem"), key, 0o600); err != nil {
		return err
	}
	q := strconv.Quote // YAML accepts JSON-style double-quoted strings
	maxUpload := ""
	if s.opt.MaxUploadBytes > 0 {
		maxUpload = "  max_file_size_bytes: " + strconv.FormatInt(s.opt.MaxUploadBytes, 10) + "\n"
	}
	db := func(name string) string { return q("file:" + filepath.Join(s.dir, name+".db")) }
	cfg := `version: 2
global:
  server_name: ` + ServerName + `
  private_key: ` + q(filepath.Join(s.dir, "matrix_key.pem")) + `
  disable_federation: true
  cache:
    max_size_estimated: 64mb
    max_age: 1h
  jetstream:
    in_memory: true
    storage_path: ` + q(s.dir) + `
  presence:
    enable_inbound: false
    enable_outbound: false
  report_stats:
    enabled: false
client_api:
  registration_disabled: true
  guests_disabled: true
  registration_shared_secret: ` + q(s.secret) + `
  rate_limiting:
    enabled: false
federation_api:
  database:
    connection_string: ` + db("federationapi") + `
  key_perspectives: []
key_server:
  database:
    connection_string: ` + db("keyserver") + `
media_api:
  database:
    connection_string: ` + db("mediaapi") + `
  base_path: ` + q(filepath.Join(s.dir, "media")) + `
` + maxUpload + `mscs:
  database:
    connection_string: ` + db("mscs") + `
relay_api:
  database:
    connection_string: ` + db("relayapi") + `
room_server:
  database:
    connection_string: ` + db("roomserver") + `
sync_api:
  database:
    connection_string: ` + db("syncapi") + `
  search:
    enabled: false
    index_path: ` + q(filepath.Join(s.dir, "searchindex")) + `
user_api:
  account_database:
    connection_string: ` + db("userapi") + `
  bcrypt_cost: 4
logging:
  - type: file
    level: warn
    params:
      path: ` + q(filepath.Join(s.dir, "log")) + `
`
	return os.WriteFile(filepath.Join(s.dir, "dendrite.yaml"), []byte(cfg), 0o600)
}

// URL is the homeserver's base URL, such as http://127.0.0.1:40123.
func (s *Server) URL() string { return s.url }

// UserID is the Matrix ID of the local user called localpart.
func UserID(localpart string) string { return "@" + localpart + ":" + ServerName }

// Register creates the user localpart through shared-secret registration and
// returns an access token for it (a new device).
func (s *Server) Register(t testing.TB, localpart string) string {
	t.Helper()
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	s.call(t, http.MethodGet, "/_synapse/admin/v1/register", "", nil, &nonce)
	password := randomHex(t, 12)
	mac := hmac.New(sha1.New, []byte(s.secret))
	mac.Write([]byte(strings.Join([]string{nonce.Nonce, localpart, password, "notadmin"}, "\x00")))
	var reg struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	s.call(t, http.MethodPost, "/_synapse/admin/v1/register", "", map[string]any{
		"nonce": nonce.Nonce, "username": localpart, "password": password, "admin": false,
		"mac": hex.EncodeToString(mac.Sum(nil)),
	}, &reg)
	if reg.AccessToken == "" {
		t.Fatalf("dendritetest: register %s: no access token in the answer", localpart)
	}
	return reg.AccessToken
}

// CreateRoom creates a private room whose only member is the token's user
// and returns its ID.
func (s *Server) CreateRoom(t testing.TB, token string) string {
	t.Helper()
	return s.createRoom(t, token, map[string]any{"preset": "private_chat"})
}

// CreateEncryptedRoom is CreateRoom for a room with end-to-end encryption
// on (an m.room.encryption state event, Megolm), as clients create one.
func (s *Server) CreateEncryptedRoom(t testing.TB, token string) string {
	t.Helper()
	return s.createRoom(t, token, map[string]any{"preset": "private_chat", "initial_state": []any{
		map[string]any{"type": "m.room.encryption", "state_key": "", "content": map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}},
	}})
}

func (s *Server) createRoom(t testing.TB, token string, body map[string]any) string {
	t.Helper()
	var room struct {
		RoomID string `json:"room_id"`
	}
	s.call(t, http.MethodPost, "/_matrix/client/v3/createRoom", token, body, &room)
	if room.RoomID == "" {
		t.Fatal("dendritetest: createRoom: no room_id in the answer")
	}
	return room.RoomID
}

// AddAlias points the alias (#localpart:localhost) at roomID.
func (s *Server) AddAlias(t testing.TB, token, alias, roomID string) {
	t.Helper()
	s.call(t, http.MethodPut, "/_matrix/client/v3/directory/room/"+PathEscape(alias), token, map[string]any{"room_id": roomID}, nil)
}

// Send posts an m.text message with the given body to the room, with a
// fresh transaction ID, and returns its event ID.
func (s *Server) Send(t testing.TB, token, roomID, body string) string {
	t.Helper()
	var sent struct {
		EventID string `json:"event_id"`
	}
	s.call(t, http.MethodPut, "/_matrix/client/v3/rooms/"+PathEscape(roomID)+"/send/m.room.message/"+randomHex(t, 8), token,
		map[string]any{"msgtype": "m.text", "body": body}, &sent)
	return sent.EventID
}

// Event is a room event as the client API returns it.
type Event struct {
	EventID string          `json:"event_id"`
	Type    string          `json:"type"`
	Sender  string          `json:"sender"`
	Content json.RawMessage `json:"content"`
}

// Messages returns the room's latest events (up to 1000), oldest first, as
// the token's user sees them (GET /rooms/{roomId}/messages?dir=b). Dendrite
// answers a send before its timeline shows the event: a test that counts
// messages first sends a marker of its own and waits for it.
func (s *Server) Messages(t testing.TB, token, roomID string) []Event {
	t.Helper()
	var page struct {
		Chunk []Event `json:"chunk"`
	}
	s.call(t, http.MethodGet, "/_matrix/client/v3/rooms/"+PathEscape(roomID)+"/messages?dir=b&limit=1000", token, nil, &page)
	out := make([]Event, 0, len(page.Chunk))
	for i := len(page.Chunk) - 1; i >= 0; i-- {
		out = append(out, page.Chunk[i])
	}
	return out
}

// Download returns the file of a content URI (mxc://SERVER/ID) and its
// Content-Type, fetched as a client does through the authenticated media
// API (GET /_matrix/client/v1/media/download/SERVER/ID). Any status but 200
// fails the test.
func (s *Server) Download(t testing.TB, token, mxc string) ([]byte, string) {
	t.Helper()
	server, id, ok := strings.Cut(strings.TrimPrefix(mxc, "mxc://"), "/")
	if !ok || !strings.HasPrefix(mxc, "mxc://") || server == "" || id == "" || strings.Contains(id, "/") {
		t.Fatalf("dendritetest: %q is not a content URI (mxc://SERVER/ID)", mxc)
	}
	path := "/_matrix/client/v1/media/download/" + PathEscape(server) + "/" + PathEscape(id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("dendritetest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("dendritetest: GET %s: read answer: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dendritetest: GET %s: HTTP %d: %s", path, resp.StatusCode, tail(data, 1000))
	}
	return data, resp.Header.Get("Content-Type")
}

// call does one client API request and decodes the JSON answer into out
// (when not nil). Any status but 200 fails the test.
func (s *Server) call(t testing.TB, method, path, token string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("dendritetest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("dendritetest: %s %s: read answer: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dendritetest: %s %s: HTTP %d: %s", method, path, resp.StatusCode, tail(answer, 1000))
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			t.Fatalf("dendritetest: %s %s: decode answer: %v: %s", method, path, err, tail(answer, 1000))
		}
	}
}

// PathEscape escapes s for one segment of a URL path, leaving only
// unreserved characters (RFC 3986) as they are: room IDs and aliases become
// %21...%3Alocalhost and %23...%3Alocalhost, as the Matrix spec shows them.
func PathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
