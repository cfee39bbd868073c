package apiproxy_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/apiproxy"
)

// client is what a program given the proxy's Env does: it proxies through
// it and trusts its certificate only.
func client(t *testing.T, p *apiproxy.Proxy) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	proxy, _ := url.Parse("http://" + p.Addr)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

func TestProxyForwardsAFixedHostToTheFake(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.Host+r.URL.Path+" "+string(body))
	}))
	defer fake.Close()
	p, err := apiproxy.Start(t.TempDir(), "api.example.net")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := client(t, p)

	if _, err := c.Get("https://api.example.net/1/x"); err == nil {
		t.Error("a host not yet routed was reached")
	}
	p.Route("api.example.net", fake.Listener.Addr().String())
	resp, err := c.Post("https://api.example.net/1/messages.json", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(b); got != "POST api.example.net/1/messages.json hello" {
		t.Errorf("the fake answered %q", got)
	}
	if _, err := c.Get("https://elsewhere.example.org/"); err == nil {
		t.Error("a host the proxy does not stand in for was reached")
	}
	if env := strings.Join(p.Env(), " "); !strings.Contains(env, "HTTPS_PROXY=http://"+p.Addr) || !strings.Contains(env, "SSL_CERT_FILE="+p.CAFile) {
		t.Errorf("Env %s", env)
	}
}
