package channels

// Channel kinds on github.com/nikoksr/notify services, each through the
// bridge (notifybridge.go): pushover, mattermost, rocketchat, pagerduty,
// bark, dingtalk and syslog. Each sends the plain-text report (Pushover:
// the SMS summary, see sms.go), fitted to the platform's limit, with the
// subject as its title (Mattermost, Rocket.Chat and DingTalk: its first
// line).
//
// Settings of "pushover" (https://pushover.net/api):
//
//	token     the application's API token, 30 letters and digits (token_file works)
//	user_key  the user or group key to notify, 30 letters and digits (user_key_file works)
//
// Settings of "mattermost" (the REST API v4: a login, then a post):
//
//	url         the server, https://chat.example.org
//	login_id    the user name or e-mail address of the account that posts
//	password    its password (password_file works)
//	channel_id  the ID of the channel to post to (26 lower-case letters and digits)
//
// Settings of "rocketchat" (the REST API: chat.postMessage with a personal
// access token):
//
//	url      the server, https://chat.example.org
//	user_id  the ID of the user the token belongs to
//	token    the personal access token (token_file works)
//	channel  where to post: #channel, @user, or a room ID
//
// Settings of "pagerduty" (the REST API: one incident per report):
//
//	token       a REST API token (token_file works)
//	from        the e-mail address of a PagerDuty user, the incident's requester
//	service_id  the ID of the service the incident is opened on
//	urgency     high or low; default: the service's
//	priority_id the ID of a priority; default none
//	api_url     default https://api.pagerduty.com (https://api.eu.pagerduty.com
//	            for an account in the EU service region)
//
// Settings of "bark" (a push to the Bark app on iOS through a Bark server,
// POST /push with the device key):
//
//	device_key  the key the Bark app shows (device_key_file works)
//	server      default https://api.day.app (Bark's own); or a bark-server of yours
//
// Settings of "dingtalk" (a DingTalk group's custom robot, its webhook with
// a signing secret, the robot's "additional signature" security setting):
//
//	token   the access_token of the robot's webhook address (token_file works)
//	secret  its signing secret, SEC... (secret_file works)
//
// Settings of "syslog" (Go's log/syslog, as notify's syslog service uses it):
//
//	network   empty (default: the local syslog daemon, /dev/log), unixgram, unix, udp or tcp
//	address   with network: the socket's path, or host:port
//	facility  daemon (default), auth, authpriv, user, local0 ... local7
//	severity  notice (default), emerg, alert, crit, err, warning, info, debug
//	tag       default f2b-notify

import (
	"context"
	"errors"
	"fmt"
	"log/syslog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	pdapi "github.com/PagerDuty/go-pagerduty"
	poapi "github.com/gregdel/pushover"
	"github.com/nikoksr/notify/service/bark"
	"github.com/nikoksr/notify/service/dingding"
	"github.com/nikoksr/notify/service/mattermost"
	"github.com/nikoksr/notify/service/pagerduty"
	"github.com/nikoksr/notify/service/pushover"
	"github.com/nikoksr/notify/service/rocketchat"
	nsyslog "github.com/nikoksr/notify/service/syslog"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// pushoverSettings are the settings of a pushover channel.
type pushoverSettings struct {
	Token   string `mapstructure:"token"`
	UserKey string `mapstructure:"user_key"`
}

// mattermostSettings are the settings of a mattermost channel.
type mattermostSettings struct {
	URL       string `mapstructure:"url"`
	LoginID   string `mapstructure:"login_id"`
	Password  string `mapstructure:"password"`
	ChannelID string `mapstructure:"channel_id"`
}

// rocketchatSettings are the settings of a rocketchat channel.
type rocketchatSettings struct {
	URL     string `mapstructure:"url"`
	UserID  string `mapstructure:"user_id"`
	Token   string `mapstructure:"token"`
	Channel string `mapstructure:"channel"`
}

// pagerdutySettings are the settings of a pagerduty channel.
type pagerdutySettings struct {
	Token      string `mapstructure:"token"`
	From       string `mapstructure:"from"`
	ServiceID  string `mapstructure:"service_id"`
	Urgency    string `mapstructure:"urgency"`
	PriorityID string `mapstructure:"priority_id"`
	APIURL     string `mapstructure:"api_url"`
}

// barkSettings are the settings of a bark channel.
type barkSettings struct {
	DeviceKey string `mapstructure:"device_key"`
	Server    string `mapstructure:"server"`
}

// dingtalkSettings are the settings of a dingtalk channel.
type dingtalkSettings struct {
	Token  string `mapstructure:"token"`
	Secret string `mapstructure:"secret"`
}

// syslogSettings are the settings of a syslog channel.
type syslogSettings struct {
	Network  string `mapstructure:"network"`
	Address  string `mapstructure:"address"`
	Facility string `mapstructure:"facility"`
	Severity string `mapstructure:"severity"`
	Tag      string `mapstructure:"tag"`
}

// The platforms' documented limits.
const (
	pushoverLimit      = 1024  // characters of a message (https://pushover.net/api#limits)
	pushoverTitleLimit = 250   // characters of its title
	mattermostLimit    = 16383 // characters of a post, subject line included
	rocketchatLimit    = 5000  // characters of a message, subject line included (Message_MaxAllowedSize's default)
	pagerdutyLimit     = 10000 // characters of an incident's details: no documented limit, f2b-notify's
	pagerdutyTitle     = 255   // characters of the incident's title kept
	barkLimit          = 3000  // bytes of the body: Apple's push notifications hold 4 KiB of JSON, title and all
	barkTitle          = 100   // characters of the title kept
	dingtalkLimit      = 4000  // characters of a text message, subject line included: DingTalk documents none; f2b-notify's
	syslogLimit        = 8000  // bytes: rsyslog's and syslog-ng's default message size is 8 KiB, header included
)

// notifyKey is one setting's key and value.
type notifyKey struct{ key, v string }

// notifyRequire names the first of the keys that is not set.
func notifyRequire(name string, keys ...notifyKey) error {
	for _, k := range keys {
		if k.v == "" {
			return fmt.Errorf("channel %q: key %s: missing", name, k.key)
		}
	}
	return nil
}

// notifyNoBlank names the first of the keys with a space or a control
// character in it, which no token, user name or ID has.
func notifyNoBlank(name string, keys ...notifyKey) error {
	for _, k := range keys {
		if strings.IndexFunc(k.v, textutil.IsBlankOrControl) >= 0 {
			return fmt.Errorf("channel %q: key %s: contains a space or a control character", name, k.key)
		}
	}
	return nil
}

// notifyServer parses the setting key, the address of a self-hosted
// server: without query or fragment, and without path unless subpath (a
// server under https://example.org/chat).
func notifyServer(name, key, raw string, subpath bool) (*url.URL, error) {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, fmt.Errorf("channel %q: key %s: %w", name, key, err)
	}
	if (!subpath && strings.Trim(u.Path, "/") != "") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("channel %q: key %s: want the server's address alone, such as https://chat.example.org", name, key)
	}
	return u, nil
}

// pushoverKey is the shape of Pushover's tokens and user keys.
var pushoverKey = lazyRegexp(`^[A-Za-z0-9]{30}$`)

func newPushover(name string, settings map[string]any) (Channel, error) {
	var s pushoverSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	keys := []notifyKey{{"token", s.Token}, {"user_key", s.UserKey}}
	if err := notifyRequire(name, keys...); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if !pushoverKey().MatchString(k.v) {
			return nil, fmt.Errorf("channel %q: key %s: want 30 letters and digits, as Pushover shows it", name, k.key)
		}
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "pushover", limit: pushoverLimit, format: SMSFormat},
		name:       name,
		secrets:    []string{s.Token, s.UserKey},
		credURLs:   []string{poapi.APIEndpoint},
		service: func(context.Context) (notifySender, func(), error) {
			svc := pushover.New(s.Token)
			svc.AddReceivers(s.UserKey)
			return notifyTitled(pushoverAccepted{svc}, pushoverTitleLimit), nil, nil
		},
		judge: judgePushover,
	}, nil
}

// judgePushover: Pushover's own refusal (an answer with status 0 and its
// list of errors, which it sends with a 4xx status, its monthly quota's 429
// included) and the client's checks of the message are final; its 5xx
// (ErrHTTPPushover), a transport failure or an answer that is not JSON are
// retried.
func judgePushover(err error) error {
	var refused poapi.Errors
	if errors.As(err, &refused) {
		return Permanent(err)
	}
	for _, e := range []error{poapi.ErrEmptyToken, poapi.ErrInvalidToken, poapi.ErrEmptyRecipientToken,
		poapi.ErrInvalidRecipientToken, poapi.ErrMessageEmpty, poapi.ErrMessageTooLong, poapi.ErrMessageTitleTooLong} {
		if errors.Is(err, e) {
			return Permanent(err)
		}
	}
	return err
}

// pushoverAccepted treats as delivered a message Pushover accepted (status
// 1) whose answer lacks the quota headers, which the client reads after the
// status: an error then would send the report again at the retry.
type pushoverAccepted struct{ notifySender }

func (p pushoverAccepted) Send(ctx context.Context, subject, message string) error {
	err := p.notifySender.Send(ctx, subject, message)
	var num *strconv.NumError
	if errors.Is(err, poapi.ErrInvalidHeaders) || errors.As(err, &num) {
		return nil
	}
	return err
}

// titled cuts the subject of a service that refuses long ones.
type titled struct {
	notifySender
	max int
}

func (t titled) Send(ctx context.Context, subject, message string) error {
	return t.notifySender.Send(ctx, cutRunes(subject, t.max), message)
}

func notifyTitled(s notifySender, max int) notifySender { return titled{s, max} }

// mattermostID is the shape of Mattermost's IDs.
var mattermostID = lazyRegexp(`^[a-z0-9]{26}$`)

func newMattermost(name string, settings map[string]any) (Channel, error) {
	var s mattermostSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if err := notifyRequire(name, notifyKey{"url", s.URL}, notifyKey{"login_id", s.LoginID}, notifyKey{"password", s.Password}, notifyKey{"channel_id", s.ChannelID}); err != nil {
		return nil, err
	}
	if _, err := notifyServer(name, "url", s.URL, true); err != nil {
		return nil, err
	}
	if !mattermostID().MatchString(s.ChannelID) {
		return nil, fmt.Errorf("channel %q: key channel_id: want the channel's ID, 26 lower-case letters and digits (not its name)", name)
	}
	base := strings.TrimRight(s.URL, "/")
	return &notifyChannel{
		notifyKind: notifyKind{kind: "mattermost", limit: mattermostLimit - 300},
		name:       name,
		secrets:    append(secret.URLParts(s.URL), s.Password),
		credURLs:   []string{base},
		service: func(ctx context.Context) (notifySender, func(), error) {
			svc := mattermost.New(base)
			if err := svc.LoginWithCredentials(ctx, s.LoginID, s.Password); err != nil {
				return nil, nil, fmt.Errorf("log in: %w", err)
			}
			svc.AddReceivers(s.ChannelID)
			// The session token the login gave is a secret too: an answer
			// that echoes the post's headers must not show it.
			session := &sessionRedacted{notifySender: svc}
			svc.PreSend(func(r *http.Request) error {
				session.token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				return nil
			})
			return notifyTitled(session, 299), nil, nil
		},
	}, nil
}

// sessionRedacted removes a session token, learnt while sending, from the
// errors of the service.
type sessionRedacted struct {
	notifySender
	token string
}

func (s *sessionRedacted) Send(ctx context.Context, subject, message string) error {
	err := s.notifySender.Send(ctx, subject, message)
	if err != nil && s.token != "" {
		return &emailRedactedError{msg: RedactString(err.Error(), s.token), err: err}
	}
	return err
}

func newRocketChat(name string, settings map[string]any) (Channel, error) {
	var s rocketchatSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	keys := []notifyKey{{"url", s.URL}, {"user_id", s.UserID}, {"token", s.Token}, {"channel", s.Channel}}
	if err := notifyRequire(name, keys...); err != nil {
		return nil, err
	}
	if err := notifyNoBlank(name, keys...); err != nil {
		return nil, err
	}
	u, err := notifyServer(name, "url", s.URL, false) // notify's service takes a host and a scheme
	if err != nil {
		return nil, err
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "rocketchat", limit: rocketchatLimit - 300},
		name:       name,
		secrets:    append(secret.URLParts(s.URL), s.Token),
		credURLs:   []string{s.URL},
		service: func(context.Context) (notifySender, func(), error) {
			svc, err := rocketchat.New(u.Host, u.Scheme, s.UserID, s.Token) // no network I/O with a token
			if err != nil {
				return nil, nil, err
			}
			svc.AddReceivers(s.Channel)
			return notifyTitled(svc, 299), nil, nil
		},
		judge: judgeRocketChat,
	}, nil
}

// judgeRocketChat: the SDK gives the API's own refusal ("You must be logged
// in", "[error-not-allowed]") without its status code: final, except its rate
// limit ("[error-too-many-requests]"); an answer that is not JSON comes as
// "Request error: 502 Bad Gateway", judged by its code; a transport failure
// is retried.
func judgeRocketChat(err error) error {
	var ue *url.Error
	switch msg := err.Error(); {
	case errors.As(err, &ue):
		return err
	case strings.Contains(msg, "too-many-requests") || strings.Contains(msg, "too many requests"):
		return &RetryAfterError{Err: err}
	case strings.Contains(msg, "Request error: "):
		return notifyJudge(err)
	}
	return Permanent(err)
}

func newPagerDuty(name string, settings map[string]any) (Channel, error) {
	var s pagerdutySettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if err := notifyRequire(name, notifyKey{"token", s.Token}, notifyKey{"from", s.From}, notifyKey{"service_id", s.ServiceID}); err != nil {
		return nil, err
	}
	if err := notifyNoBlank(name, notifyKey{"token", s.Token}); err != nil {
		return nil, err
	}
	if a, err := mail.ParseAddress(s.From); err != nil || a.Name != "" || a.Address != s.From {
		return nil, fmt.Errorf("channel %q: key from: want the e-mail address of a PagerDuty user, such as admin@example.org", name)
	}
	for _, k := range []notifyKey{{"service_id", s.ServiceID}, {"priority_id", s.PriorityID}} {
		if strings.IndexFunc(k.v, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') }) >= 0 {
			return nil, fmt.Errorf("channel %q: key %s: want an ID of letters and digits, such as PIJ90N7", name, k.key)
		}
	}
	switch s.Urgency {
	case "", "high", "low":
	default:
		return nil, fmt.Errorf("channel %q: key urgency: %q is not high or low", name, s.Urgency)
	}
	api := "https://api.pagerduty.com"
	if s.APIURL != "" {
		if _, err := parseHTTPURL(s.APIURL); err != nil {
			return nil, fmt.Errorf("channel %q: key api_url: %w", name, err)
		}
		api = strings.TrimRight(s.APIURL, "/")
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "pagerduty", limit: pagerdutyLimit},
		name:       name,
		secrets:    []string{s.Token},
		credURLs:   []string{api},
		service: func(context.Context) (notifySender, func(), error) {
			client := NewHTTPClient()
			svc, err := pagerduty.New(s.Token, pdapi.WithAPIEndpoint(api), func(c *pdapi.Client) { c.HTTPClient = client })
			if err != nil {
				return nil, nil, err
			}
			svc.SetFromAddress(s.From)
			svc.AddReceivers(s.ServiceID)
			svc.SetUrgency(s.Urgency)
			svc.SetPriorityID(s.PriorityID)
			svc.SetNotificationType("incident_body") // the API's name for the body; notify's default is "incident"
			return notifyTitled(svc, pagerdutyTitle), client.CloseIdleConnections, nil
		},
		judge: judgePagerDuty,
	}, nil
}

func newBark(name string, settings map[string]any) (Channel, error) {
	var s barkSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if err := notifyRequire(name, notifyKey{"device_key", s.DeviceKey}); err != nil {
		return nil, err
	}
	if strings.IndexFunc(s.DeviceKey, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') }) >= 0 {
		return nil, fmt.Errorf("channel %q: key device_key: want the key the Bark app shows, letters and digits", name)
	}
	server := bark.DefaultServerURL
	if s.Server != "" {
		if _, err := notifyServer(name, "server", s.Server, true); err != nil {
			return nil, err
		}
		server = s.Server
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "bark", limit: barkLimit, bytes: true},
		name:       name,
		secrets:    append(secret.URLParts(server), s.DeviceKey),
		credURLs:   []string{strings.TrimRight(server, "/")},
		service: func(context.Context) (notifySender, func(), error) {
			// Its own client, with a timeout of 5 seconds; it sends with the
			// attempt's context.
			return notifyTitled(bark.NewWithServers(s.DeviceKey, server), barkTitle), nil, nil
		},
	}, nil
}

// dingtalkAPI is where the robot's client sends, fixed in the library.
const dingtalkAPI = "https://oapi.dingtalk.com/robot/send"

func newDingTalk(name string, settings map[string]any) (Channel, error) {
	var s dingtalkSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	// The client refuses (panics) without a signing secret.
	keys := []notifyKey{{"token", s.Token}, {"secret", s.Secret}}
	if err := notifyRequire(name, keys...); err != nil {
		return nil, err
	}
	if err := notifyNoBlank(name, keys...); err != nil {
		return nil, err
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "dingtalk", limit: dingtalkLimit - 300},
		name:       name,
		secrets:    []string{s.Token, s.Secret},
		credURLs:   []string{dingtalkAPI},
		service: func(context.Context) (notifySender, func(), error) {
			// The library's own client (2 seconds at most a call; no
			// context) sends with the environment's proxy.
			svc := dingding.New(&dingding.Config{Token: s.Token, Secret: s.Secret})
			return notifyTitled(signRedacted{svc}, 299), nil, nil
		},
		judge: judgeDingTalk,
	}, nil
}

// dingtalkSign is the request's signature in the text of a transport error,
// which quotes the URL: a credential for an hour.
var dingtalkSign = lazyRegexp(`sign=[^&\s"]*`)

// signRedacted removes the request's signature from the service's errors.
type signRedacted struct{ notifySender }

func (s signRedacted) Send(ctx context.Context, subject, message string) error {
	err := s.notifySender.Send(ctx, subject, message)
	if err != nil {
		return &emailRedactedError{msg: dingtalkSign().ReplaceAllString(err.Error(), "sign=[redacted]"), err: err}
	}
	return err
}

// dingtalkHTTP is the status code in the client's error for an answer other
// than 200 ("send msg err. http code: 502, ...").
var dingtalkHTTP = lazyRegexp(`http code: ([1-5][0-9]{2})\b`)

// judgeDingTalk: DingTalk refuses with status 200 and an errcode, which the
// client drops, keeping the errmsg ("send msg err. err msg: sign not
// match"): final, but its rate limits ("send too fast, exceed 20 times per
// minute", "webhook over limit"), which wait for the backoff. Another status
// is judged by its code; a transport failure or an answer that is not JSON
// is retried.
func judgeDingTalk(err error) error {
	msg := err.Error()
	if m := dingtalkHTTP().FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return notifyStatus(code, err)
	}
	if _, refusal, ok := strings.Cut(msg, "send msg err. err msg: "); ok {
		if strings.Contains(refusal, "too fast") || strings.Contains(refusal, "over limit") {
			return &RetryAfterError{Err: err}
		}
		return Permanent(err)
	}
	return err
}

// judgePagerDuty judges PagerDuty's answer by its status code.
func judgePagerDuty(err error) error {
	var ae pdapi.APIError
	if errors.As(err, &ae) && ae.StatusCode != 0 {
		return notifyStatus(ae.StatusCode, err)
	}
	return notifyJudge(err)
}

var syslogFacilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL, "daemon": syslog.LOG_DAEMON,
	"auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG, "authpriv": syslog.LOG_AUTHPRIV,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3,
	"local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

var syslogSeverities = map[string]syslog.Priority{
	"emerg": syslog.LOG_EMERG, "alert": syslog.LOG_ALERT, "crit": syslog.LOG_CRIT, "err": syslog.LOG_ERR,
	"warning": syslog.LOG_WARNING, "notice": syslog.LOG_NOTICE, "info": syslog.LOG_INFO, "debug": syslog.LOG_DEBUG,
}

func newSyslog(name string, settings map[string]any) (Channel, error) {
	var s syslogSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	switch s.Network {
	case "":
		if s.Address != "" {
			return nil, fmt.Errorf("channel %q: key address goes with network (unixgram, unix, udp or tcp)", name)
		}
	case "unixgram", "unix":
		if !filepath.IsAbs(s.Address) {
			return nil, fmt.Errorf("channel %q: key address: want the absolute path of the syslog socket, such as /dev/log", name)
		}
	case "udp", "tcp":
		if _, _, err := net.SplitHostPort(s.Address); err != nil {
			return nil, fmt.Errorf("channel %q: key address: want host:port, such as 192.0.2.10:514", name)
		}
	default:
		return nil, fmt.Errorf("channel %q: key network: %q is not unixgram, unix, udp or tcp", name, s.Network)
	}
	facility, severity := syslog.LOG_DAEMON, syslog.LOG_NOTICE
	if s.Facility != "" {
		f, ok := syslogFacilities[s.Facility]
		if !ok {
			return nil, fmt.Errorf("channel %q: key facility: %q is not a syslog facility (daemon, auth, authpriv, user, local0 ... local7, ...)", name, s.Facility)
		}
		facility = f
	}
	if s.Severity != "" {
		v, ok := syslogSeverities[s.Severity]
		if !ok {
			return nil, fmt.Errorf("channel %q: key severity: %q is not a syslog severity (emerg, alert, crit, err, warning, notice, info, debug)", name, s.Severity)
		}
		severity = v
	}
	tag := "f2b-notify"
	if s.Tag != "" {
		if len(s.Tag) > 32 || strings.IndexFunc(s.Tag, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' || r == '[' || r == ']' }) >= 0 {
			return nil, fmt.Errorf("channel %q: key tag: want at most 32 printable ASCII characters without space, colon or brackets", name)
		}
		tag = s.Tag
	}
	return &notifyChannel{
		notifyKind: notifyKind{kind: "syslog", limit: syslogLimit - 200, bytes: true},
		name:       name,
		service: func(context.Context) (notifySender, func(), error) {
			svc, err := nsyslog.NewFromDial(s.Network, s.Address, facility|severity, tag)
			if err != nil {
				return nil, nil, fmt.Errorf("connect to syslog: %w", err)
			}
			return notifyTitled(svc, 200), func() { _ = svc.Close() }, nil
		},
	}, nil
}
