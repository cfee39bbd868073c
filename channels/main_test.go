package channels_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/apiproxy"
)

// fixedAPIs are the API hosts a client library fixes (Pushover's,
// TextMagic's, DingTalk's): the tests reach their fakes through apiProxy, an HTTPS proxy
// that this process's environment names, as a user behind a proxy would.
var fixedAPIs = []string{"api.pushover.net", "rest.textmagic.com", "oapi.dingtalk.com"}

var apiProxy *apiproxy.Proxy

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "channels-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	apiProxy, err = apiproxy.Start(dir, fixedAPIs...)
	if err == nil {
		// Before any request: Go reads the proxy variables once.
		err = apiProxy.Setenv()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	apiProxy.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}
