//go:build integration

package reliability

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/render"
)

// Recognisable secrets: no output, error, log or ledger may show them.
const (
	secretURLToken = "SECRET-TOKEN-1234"
	secretBearer   = "SECRET-BEARER-5678"
	secretPassword = "SECRET-PASSWORD-9012"
)

var allSecrets = []string{secretURLToken, secretBearer, secretPassword}

// faultMode is how the fault server treats a connection.
type faultMode string

const (
	modeOK        faultMode = "ok"        // 200, and keep the request's body
	modeRefused   faultMode = "refused"   // nothing listens
	modeReset     faultMode = "reset"     // accept, then close with RST
	modeHang      faultMode = "hang"      // accept, read, never answer
	modeGarbage   faultMode = "garbage"   // answer bytes that are not HTTP
	modeStatus503 faultMode = "503"       // 503 Service Unavailable
	mode429       faultMode = "429"       // 429 with Retry-After: 1
	modeStatus400 faultMode = "400"       // 400 Bad Request: final
	modeTLS       faultMode = "tls-error" // TLS with a certificate nobody trusts
)

// faultServer is an HTTP endpoint on 127.0.0.1 that misbehaves on demand
// and counts what it saw.
type faultServer struct {
	t    *testing.T
	addr string
	tls  *tls.Config

	mu       sync.Mutex
	mode     faultMode
	l        net.Listener
	conns    int         // TCP connections accepted
	requests []time.Time // requests read in full
	bodies   [][]byte    // bodies of the requests answered 200
	paths    []string    // their paths
	open     []net.Conn
	wg       sync.WaitGroup
}

func startFaultServer(t *testing.T, tlsConfig *tls.Config) *faultServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &faultServer{t: t, addr: l.Addr().String(), tls: tlsConfig, mode: modeOK}
	f.serve(l)
	t.Cleanup(f.close)
	return f
}

func (f *faultServer) serve(l net.Listener) {
	f.mu.Lock()
	f.l = l
	f.mu.Unlock()
	f.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.open = append(f.open, c)
			mode := f.mode
			f.mu.Unlock()
			f.wg.Go(func() { f.handle(c, mode) })
		}
	})
}

// setMode changes the behaviour; modeRefused closes the listener, leaving
// the port free, and leaving it reopens the listener on the same port.
func (f *faultServer) setMode(m faultMode) {
	f.t.Helper()
	f.mu.Lock()
	old, l := f.mode, f.l
	f.mode = m
	f.mu.Unlock()
	if m == modeRefused && old != modeRefused {
		l.Close()
	}
	if old == modeRefused && m != modeRefused {
		var err error
		for range 100 {
			if l, err = net.Listen("tcp", f.addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			f.t.Fatalf("reopen %s: %v", f.addr, err)
		}
		f.serve(l)
	}
}

func (f *faultServer) handle(c net.Conn, mode faultMode) {
	if mode == modeReset {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		return
	}
	if f.tls != nil {
		tc := tls.Server(c, f.tls)
		if err := tc.Handshake(); err != nil {
			c.Close() // the client refused our certificate: the TLS error
			return
		}
		c = tc
	}
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			c.Close()
			return
		}
		body, _ := io.ReadAll(req.Body)
		f.mu.Lock()
		f.requests = append(f.requests, time.Now())
		if mode == modeOK {
			f.bodies = append(f.bodies, body)
			f.paths = append(f.paths, req.URL.Path)
		}
		f.mu.Unlock()
		switch mode {
		case modeHang:
			_, _ = io.Copy(io.Discard, c) // until the client gives up
			c.Close()
			return
		case modeGarbage:
			_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02 not http at all\r\n\r\n")
			c.Close()
			return
		case modeStatus503:
			_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\n\r\nmaintenance")
		case mode429:
			_, _ = io.WriteString(c, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nslow")
		case modeStatus400:
			echo := `{"error":"no hook /hooks/` + secretURLToken + `"}` // a server that quotes the URL
			_, _ = fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s", len(echo), echo)
		default:
			// What the chat APIs answer: Slack's webhook "ok", the others JSON
			// (Telegram's ok and result, Matrix's event_id, Discord's id,
			// Rocket.Chat's success).
			// Mattermost's login gives the session token in a header, and
			// Mattermost and TextMagic answer what they create with 201.
			answer := `{"ok":true,"success":true,"result":{"message_id":1},"event_id":"$e1","id":"1"}`
			status, header := "200 OK", ""
			switch p := req.URL.Path; {
			case strings.HasPrefix(p, "/services/"):
				answer = "ok"
			case strings.HasPrefix(p, "/teams/"):
				answer = "1"
			case p == "/1/messages.json": // Pushover
				answer = `{"status":1,"request":"r1"}`
			case p == "/api/v4/users/login":
				header = "Token: mm-session-token-hostile\r\n"
			case p == "/api/v4/posts":
				status = "201 Created"
			case p == "/api/v2/messages": // TextMagic
				status, answer = "201 Created", `{"id":1,"href":"/api/v2/messages/1","type":"message","sessionId":1,"bulkId":null,"messageId":1,"scheduleId":null,"chatId":null}`
			}
			_, _ = fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s", status, header, len(answer), answer)
		}
	}
}

func (f *faultServer) close() {
	f.mu.Lock()
	if f.l != nil {
		f.l.Close()
	}
	for _, c := range f.open {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// seen returns the connections and requests so far and forgets them.
func (f *faultServer) seen() (conns int, requests []time.Time, bodies [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	conns, requests, bodies = f.conns, f.requests, f.bodies
	f.conns, f.requests, f.bodies = 0, nil, nil
	return conns, requests, bodies
}

// takePaths returns the paths of the requests answered 200 and forgets them.
func (f *faultServer) takePaths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.paths
	f.paths = nil
	return p
}

// webhookIPs counts the addresses in the text reports of webhook bodies.
func webhookIPs(t *testing.T, bodies [][]byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, b := range bodies {
		var env struct{ Text string }
		if err := json.Unmarshal(b, &env); err != nil {
			t.Errorf("webhook body is not the JSON envelope: %v: %.200s", err, b)
			continue
		}
		for ip, n := range countIPs(env.Text) {
			out[ip] += n
		}
	}
	return out
}

// TestChannelFaults sends a report to a webhook channel that fails in every
// way an endpoint can (refused, reset, hanging past the timeout, 5xx, 429
// with Retry-After, a reply that is not HTTP, a certificate nobody trusts,
// a final 4xx), next to a healthy file channel. It runs the flush procedure
// in this process (with short backoffs) on the configuration loaded from a
// file, and checks: the attempts the server saw match `retries`, the file
// channel gets its report once and is not sent it again, nothing is lost
// (after the fault clears the webhook gets every ban), and no secret is in
// any error or in the ledger.
func TestChannelFaults(t *testing.T) {
	const retries = 2
	cert := smtpsink.SelfSignedCert(t)
	type fault struct {
		mode         faultMode
		wantAttempts int  // tries the flush makes
		countConns   bool // the server counts connections, not requests
		minGap       time.Duration
	}
	faults := []fault{
		{mode: modeRefused, wantAttempts: retries + 1},
		{mode: modeReset, wantAttempts: retries + 1, countConns: true},
		{mode: modeHang, wantAttempts: retries + 1},
		{mode: modeGarbage, wantAttempts: retries + 1},
		{mode: modeStatus503, wantAttempts: retries + 1},
		{mode: mode429, wantAttempts: retries + 1, minGap: 900 * time.Millisecond},
		{mode: modeTLS, wantAttempts: retries + 1, countConns: true},
		{mode: modeStatus400, wantAttempts: 1},
	}
	tried, lost, dup, leaked := 0, 0, 0, 0
	for _, fl := range faults {
		t.Run(string(fl.mode), func(t *testing.T) {
			var srv *faultServer
			scheme := "http"
			if fl.mode == modeTLS {
				srv = startFaultServer(t, cert.Server)
				scheme = "https"
			} else {
				srv = startFaultServer(t, nil)
			}
			s := newSite(t, siteOptions{channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  hook:
    type: webhook
    url: %s://%s/hooks/%s
    token: %s
    retries: %d
    timeout: 400ms
`, scheme, srv.addr, secretURLToken, secretBearer, retries)})
			want := s.appendBans(4, 3)
			tried += len(want)
			if fl.mode != modeTLS {
				srv.setMode(fl.mode)
			}
			res := flushInProcess(t, s)
			hook, logc := res.Channels[0], res.Channels[1]
			if hook.Name != "hook" {
				hook, logc = logc, hook
			}
			conns, reqs, _ := srv.seen()
			if hook.Err == nil {
				t.Fatalf("the webhook succeeded against a %s server", fl.mode)
			}
			t.Logf("%s: %d attempts, error: %v", fl.mode, hook.Attempts, hook.Err)
			if hook.Attempts != fl.wantAttempts {
				t.Errorf("%d attempts, want %d (retries: %d)", hook.Attempts, fl.wantAttempts, retries)
			}
			switch {
			case fl.mode == modeRefused:
				// nothing listened: the attempts are the flush's count
			case fl.countConns:
				if conns != fl.wantAttempts {
					t.Errorf("the server saw %d connections, want %d", conns, fl.wantAttempts)
				}
			default:
				if len(reqs) != fl.wantAttempts {
					t.Errorf("the server saw %d requests, want %d", len(reqs), fl.wantAttempts)
				}
			}
			if fl.minGap > 0 {
				for i := 1; i < len(reqs); i++ {
					if gap := reqs[i].Sub(reqs[i-1]); gap < fl.minGap {
						t.Errorf("retry %d came %v after the previous try; Retry-After asked for 1s", i, gap)
					}
				}
			}
			if logc.Err != nil || logc.Bans != len(want) {
				t.Errorf("the healthy file channel suffered: %+v", logc)
			}
			l := s.ledger()
			if st := l.Channel("hook"); st.Missed != 1 || st.LastError == "" {
				t.Errorf("ledger of the failed channel: %+v", st)
			}
			leaks := secretsIn(allSecrets, hook.Err.Error(), readFile(t, filepath.Join(s.buf, "ledger.json")))
			leaked += len(leaks)
			if len(leaks) > 0 {
				t.Errorf("secrets %v in the error or the ledger: %v", leaks, hook.Err)
			}

			// The fault clears: the webhook gets every ban, the file is not sent them again.
			if fl.mode == modeTLS {
				srv.tls = nil
				s.writeConfig(siteOptions{channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  hook:
    type: webhook
    url: http://%s/hooks/%s
    token: %s
    retries: %d
    timeout: 400ms
`, srv.addr, secretURLToken, secretBearer, retries)})
			}
			srv.setMode(modeOK)
			res = flushInProcess(t, s)
			for _, c := range res.Channels {
				if c.Err != nil {
					t.Errorf("after the fault cleared, %s failed: %v", c.Name, c.Err)
				}
				if c.Name == "log" && c.Batches != 0 {
					t.Errorf("the file channel was sent %d batches again", c.Batches)
				}
			}
			_, _, bodies := srv.seen()
			got := webhookIPs(t, bodies)
			n, copies := deliveredWithTheFile(t, "webhook", got, s, want)
			lost, dup = lost+n, dup+copies
			if b, _ := buffer0(s); b != 0 {
				t.Errorf("%d batches left after every channel got them", b)
			}
		})
	}
	figures(t, "channel-faults", tried, lost, dup, leaked, fmt.Sprintf("faults=%d", len(faults)), fmt.Sprintf("retries=%d", retries))
}

// flushInProcess loads the site's configuration and runs one flush in this
// process.
func flushInProcess(t *testing.T, s *site) *flush.Result {
	t.Helper()
	cfg, err := config.Load(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := render.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := flush.Run(ctxTimeout(t, time.Minute), cfg, targets, flush.Options{Backoff: shortBackoff})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// shortBackoff keeps the retries of the in-process flushes quick.
func shortBackoff(int) time.Duration { return 20 * time.Millisecond }

// buffer0 counts the batches left in the spool.
func buffer0(s *site) (int, error) {
	entries, err := os.ReadDir(filepath.Join(s.buf, "spool"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jsonl") {
			n++
		}
	}
	return n, err
}

// TestSMTPFaults sends to an smtp channel (with a password) whose server
// refuses connections, presents a certificate nobody trusts, or answers 451
// to DATA, next to a healthy file channel: the channel's bans are kept and
// delivered once the fault clears, the file channel is not sent them again,
// and the password appears nowhere. It runs the real binary.
func TestSMTPFaults(t *testing.T) {
	cert := smtpsink.SelfSignedCert(t)
	type fault struct {
		name  string
		sink  *smtpsink.Sink
		tls   string
		start func(*smtpsink.Sink)
		clear func(*smtpsink.Sink)
	}
	faults := []fault{
		{name: "refused", sink: smtpsink.Start(t, smtpsink.WithAuth("f2b", secretPassword)), tls: "none",
			start: func(s *smtpsink.Sink) { s.Stop() }, clear: func(s *smtpsink.Sink) { s.Restart(t) }},
		{name: "tls-untrusted", sink: smtpsink.Start(t, smtpsink.WithAuth("f2b", secretPassword), smtpsink.WithImplicitTLS(cert.Server)), tls: "implicit"},
		{name: "data-451", sink: smtpsink.Start(t, smtpsink.WithAuth("f2b", secretPassword)), tls: "none",
			start: func(s *smtpsink.Sink) { s.Fail(smtpsink.StageData, 451, "try later "+secretPassword) },
			clear: func(s *smtpsink.Sink) { s.Fail(smtpsink.StageData, 0, "") }},
		{name: "auth-535", sink: smtpsink.Start(t, smtpsink.WithAuth("f2b", "another-password")), tls: "none"},
	}
	tried, lost, dup, leaked := 0, 0, 0, 0
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			dir := t.TempDir()
			pw := filepath.Join(dir, "smtp-password")
			if err := os.WriteFile(pw, []byte(secretPassword+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			chans := func(ca string) string {
				return fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  mail:
    type: smtp
    host: 127.0.0.1
    port: %d
    tls: %s
    username: f2b
    password_file: %s
    from: f2b@localhost
    to: [root@localhost]
    retries: 1
    timeout: 5s
%s`, fl.sink.Port(), fl.tls, pw, ca)
			}
			s := newSite(t, siteOptions{channels: chans("")})
			want := s.appendBans(3, 3)
			tried += len(want)
			if fl.start != nil {
				fl.start(fl.sink)
			}
			r := s.cmd("flush", "-v")
			if r.Code != 1 || !strings.Contains(r.Err, "mail: FAILED") || !strings.Contains(r.Out, "log: sent 3 bans") {
				t.Errorf("flush against a failing SMTP server (%s): %v", fl.name, r)
			}
			t.Logf("%s: %s", fl.name, strings.TrimSpace(r.Err))
			if fl.clear != nil {
				fl.clear(fl.sink)
			}
			switch fl.name {
			case "tls-untrusted":
				s.writeConfig(siteOptions{channels: chans("    ca_file: " + cert.CAFile + "\n")})
			case "auth-535":
				if err := os.WriteFile(pw, []byte("another-password\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r2 := s.cmd("flush", "-v")
			if r2.Code != 0 || !strings.Contains(r2.Out, "mail: sent 3 bans") || !strings.Contains(r2.Out, "log: nothing new") {
				t.Errorf("flush after the fault cleared: %v", r2)
			}
			got := map[string]int{}
			for _, m := range fl.sink.Messages() {
				p, err := parseMail(m.Data)
				if err != nil {
					t.Fatal(err)
				}
				for ip, n := range countIPs(p.Text) {
					got[ip] += n
				}
			}
			n, copies := deliveredWithTheFile(t, "mail", got, s, want)
			lost, dup = lost+n, dup+copies
			leaks := secretsIn([]string{secretPassword}, r.Out, r.Err, r2.Out, r2.Err)
			leaks = append(leaks, filesWithSecrets(t, []string{secretPassword}, nil, s.buf)...)
			leaked += len(leaks)
			if len(leaks) > 0 {
				t.Errorf("the password leaked: %v", leaks)
			}
		})
	}
	figures(t, "smtp-faults", tried, lost, dup, leaked, fmt.Sprintf("faults=%d", len(faults)))
}

// deliveredWithTheFile checks that each address of want reached both the
// channel what (got counts its deliveries) and the file channel of s, and
// returns how many did not, each failing t, and how many copies beyond the
// first arrived, which at-least-once allows after a fault.
func deliveredWithTheFile(t *testing.T, what string, got map[string]int, s *site, want []string) (lost, dup int) {
	t.Helper()
	logs := countIPs(readFile(t, filepath.Join(s.dir, "reports.txt")))
	for _, ip := range want {
		if got[ip] == 0 || logs[ip] == 0 {
			lost++
			t.Errorf("%s: %s %d, file %d deliveries", ip, what, got[ip], logs[ip])
		}
		dup += max(got[ip]-1, 0) + max(logs[ip]-1, 0)
	}
	return lost, dup
}
