// Package secret knows which channel settings and HTTP headers hold
// credentials, and lists the values they hold, so that f2b-notify keeps
// them out of every error, log line and file it writes and warns when a
// file holding them is readable by other users.
package secret

import (
	"net/url"
	"os"
	"slices"
	"strings"
)

// keys are the channel keys that hold credentials, inline or, with the
// _file suffix, in a file.
var keys = []string{"password", "token", "access_token", "webhook_url", "url", "api_key", "secret", "user_key", "urls", "config"}

// Key reports whether the channel key name (without its _file suffix)
// holds a credential.
func Key(name string) bool { return slices.Contains(keys, strings.ToLower(name)) }

// headerWords are the parts of a header name that say its value is a
// credential: Authorization, X-Api-Key, X-Auth-Token, X-Hub-Secret, ...
var headerWords = []string{"auth", "token", "secret", "key", "password", "passwd", "signature", "session", "cookie", "credential"}

// Header reports whether the value of the HTTP header name is a
// credential, judged by its name (case does not matter).
func Header(name string) bool {
	n := strings.ToLower(name)
	for _, w := range headerWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// URLParts lists what of a URL may be secret: the URL, its path and query,
// the long segments of its path (tokens), its query values and its
// password.
func URLParts(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if len(u.Path) > 1 {
		out = append(out, u.Path, u.EscapedPath())
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 12 {
			out = append(out, seg)
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	return out
}

// Values lists every credential in a channel's settings: the values of the
// keys that hold one (also when given in the wrong type, such as a list),
// the content of their KEY_file files, the values of the headers whose name
// says they carry one (and the credential after an "Bearer "-style scheme),
// and the secret parts of each (see URLParts). A file that cannot be read
// adds nothing: building the channel reports it.
func Values(settings map[string]any) []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			for _, form := range []string{v, strings.TrimSpace(v)} {
				if form != "" {
					out = append(out, form)
					if strings.Contains(form, "://") {
						out = append(out, URLParts(form)...)
					}
				}
			}
		}
	}
	for k, v := range settings {
		base, isFile := strings.CutSuffix(k, "_file")
		switch {
		case isFile && Key(base):
			if path, ok := v.(string); ok && path != "" {
				if b, err := os.ReadFile(path); err == nil {
					add(strings.TrimRight(string(b), "\r\n"))
				}
			}
		case Key(k):
			add(texts(v)...)
		case strings.EqualFold(k, "headers"):
			for name, hv := range entries(v) {
				if !Header(name) {
					continue
				}
				for _, s := range texts(hv) {
					add(s)
					if _, cred, ok := strings.Cut(strings.TrimSpace(s), " "); ok {
						add(cred) // Authorization: Bearer TOKEN
					}
				}
			}
		}
	}
	return out
}

// Headers reports whether a headers setting holds a header that carries a
// credential.
func Headers(v any) bool {
	for name := range entries(v) {
		if Header(name) {
			return true
		}
	}
	return false
}

// entries returns the entries of a map setting, whatever its key type.
func entries(v any) map[string]any {
	out := map[string]any{}
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[string]string:
		for k, s := range m {
			out[k] = s
		}
	case map[any]any:
		for k, s := range m {
			if ks, ok := k.(string); ok {
				out[ks] = s
			}
		}
	}
	return out
}

// texts returns the strings in a setting's value: the value itself, or the
// strings in a list or map of any depth.
func texts(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, texts(e)...)
		}
		return out
	case []string:
		return x
	case map[string]any, map[string]string, map[any]any:
		var out []string
		for _, e := range entries(x) {
			out = append(out, texts(e)...)
		}
		return out
	}
	return nil
}
