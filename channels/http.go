package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxAnswer bounds how much of an HTTP answer is read.
const maxAnswer = 1 << 20

// HTTPRequest is one call to a platform's HTTP API.
type HTTPRequest struct {
	Method  string            // default POST
	URL     string            // may hold a secret: errors never show it
	Header  map[string]string // Content-Type defaults to application/json
	Body    []byte
	Secrets []string // strings to redact from errors (tokens, webhook paths)
}

// HTTPAnswer is a platform's answer.
type HTTPAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewHTTPClient returns the client channels use: no cookies, no proxy
// surprises beyond the environment's, redirects refused (a webhook that
// redirects is misconfigured, and a redirect could carry a token elsewhere).
// Timeouts come from the context of each send.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirect refused")
		},
	}
}

// Do sends r and reads the answer. A transport failure (refused, reset, TLS,
// timeout) is returned as a retryable error; the caller judges the status
// with HTTPError. Secrets in r never appear in the error.
func Do(ctx context.Context, c *http.Client, r HTTPRequest) (*HTTPAnswer, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, Permanent(Redact(fmt.Errorf("build request: %w", err), append(r.Secrets, r.URL)...))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "f2b-notify")
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL, which may hold a token
		}
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil && !strings.Contains(err.Error(), cause.Error()) {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		return nil, Redact(fmt.Errorf("%s %s: %w", method, Endpoint(r.URL), err), r.Secrets...)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, Redact(fmt.Errorf("%s %s: read answer: %w", method, Endpoint(r.URL), err), r.Secrets...)
	}
	return &HTTPAnswer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// HTTPError judges an answer by its status, as the platforms document it:
// 2xx is success (nil); 429 is retried after Retry-After (or after the given
// retryAfter, which a platform may put in its JSON body; 0 if none); 408 and
// 5xx are retried; any other 4xx is final. reason is the platform's own
// explanation, shown in the error. Secrets are redacted.
func HTTPError(a *HTTPAnswer, reason string, retryAfter time.Duration, secrets ...string) error {
	if a.Status >= 200 && a.Status < 300 {
		return nil
	}
	if reason == "" {
		reason = strings.TrimSpace(string(a.Body))
		if len(reason) > 300 {
			reason = reason[:300] + "…"
		}
	}
	msg := fmt.Sprintf("HTTP %d %s", a.Status, http.StatusText(a.Status))
	if reason != "" {
		msg += ": " + reason
	}
	err := Redact(errors.New(msg), secrets...)
	switch {
	case a.Status == http.StatusTooManyRequests:
		if retryAfter <= 0 {
			retryAfter = ParseRetryAfter(a.Header.Get("Retry-After"))
		}
		return &RetryAfterError{Err: err, After: retryAfter}
	case a.Status == http.StatusRequestTimeout || a.Status >= 500:
		return err
	default:
		return Permanent(err)
	}
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func ParseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// MaxRetryAfter caps how long a platform can make a flush wait.
const MaxRetryAfter = 5 * time.Minute

// JSON encodes v for a request body.
func JSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, Permanent(fmt.Errorf("encode request: %w", err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// CredentialSender is implemented by channels that send a credential (a
// token, a password, a webhook URL that is itself the secret) with every
// request: CredentialURLs lists the URLs it is sent to.
type CredentialSender interface {
	CredentialURLs() []string
}

// PlainHTTPHosts lists the hosts (with their port, if given) to which ch
// sends a credential over plain http://, where anyone on the way can read
// it. Loopback hosts (127.0.0.0/8, ::1, localhost) are not listed: the
// credential does not leave the machine.
func PlainHTTPHosts(ch Channel) []string {
	cs, ok := ch.(CredentialSender)
	if !ok {
		return nil
	}
	var out []string
	for _, raw := range cs.CredentialURLs() {
		u, err := url.Parse(raw)
		if err != nil || !strings.EqualFold(u.Scheme, "http") || isLoopback(u.Hostname()) || slices.Contains(out, u.Host) {
			continue
		}
		out = append(out, u.Host)
	}
	return out
}

// isLoopback reports whether host names this machine: localhost, or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
