package channels

import (
	"fmt"
	"slices"
	"strings"
)

// Kind describes a channel kind: everything the rest of f2b-notify knows
// about it. Adding a kind is its file and its test, one entry in Kinds, its
// block in config.example.yaml and its name in the README's list of
// channels (see the README, "Adding a channel").
type Kind struct {
	// Name is the type of a channel block in the configuration.
	Name string
	// New builds a channel of this kind from its settings. It does no
	// network I/O.
	New Factory
	// Settings is the zero value of the struct its settings decode into
	// (with `mapstructure` tags): the keys a block of this kind takes.
	Settings any
	// Secrets are the settings that hold credentials, inline or as
	// KEY_file: their values are redacted from everything f2b-notify prints
	// or stores, and a file holding them that others can read is warned of.
	Secrets []string
	// Formats are the formats it renders with its default settings, primary
	// first; the default template of each is
	// templates/default/report.FORMAT.tmpl.
	Formats []Format
	// Limit is its size limit with its default settings, in the units of its
	// Measure (characters when it has none); 0 for none.
	Limit int
	// Fake, for a kind that posts to an HTTP API, points a channel at a fake
	// of that API; tests send hostile input through every such kind with it.
	Fake *Fake
}

// Fake is how tests point a channel of an HTTP kind at a fake server.
type Fake struct {
	// Settings are the lines of a channel block (YAML, indented by four
	// spaces) that send to the server at %[1]s (host:port); without Host.
	Settings string
	// Host, for a kind whose client library fixes the API's address, is
	// that address's host (port 443): tests send its requests to the fake
	// through an HTTPS proxy that stands in for it (internal/apiproxy), and
	// Settings are a channel block as it is, without %[1]s.
	Host string
	// Path is the prefix of the paths its requests go to.
	Path string
}

// Kinds are the channel kinds, one entry each.
var Kinds = []Kind{
	{Name: "sendmail", New: newSendmail, Settings: sendmailSettings{}, Formats: emailFormats},
	{Name: "smtp", New: newSMTP, Settings: smtpSettings{}, Secrets: []string{"password"}, Formats: emailFormats},
	{Name: "file", New: newFileFromSettings, Settings: fileSettings{}, Formats: []Format{Text}},
	{Name: "telegram", New: newTelegram, Settings: telegramSettings{}, Secrets: []string{"token"}, Formats: []Format{TelegramHTML}, Limit: telegramMaxText, Fake: &Fake{
		Settings: "    token: \"123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ\"\n    chat_id: \"-1001234567890\"\n    api_url: http://%[1]s\n", Path: "/bot"}},
	{Name: "matrix", New: newMatrix, Settings: matrixSettings{}, Secrets: []string{"access_token"}, Formats: []Format{MatrixFormat, Text}, Limit: matrixHTMLLimit, Fake: &Fake{
		Settings: "    homeserver: http://%[1]s\n    access_token: syt_test_token\n    room: \"!room:example.org\"\n", Path: "/_matrix/"}},
	{Name: "slack", New: newSlack, Settings: slackSettings{}, Secrets: []string{"webhook_url", "token"}, Formats: []Format{SlackFormat}, Limit: slackLimit, Fake: &Fake{
		Settings: "    webhook_url: http://%[1]s/services/T000/B000/XXXXXXXXXXXX\n", Path: "/services/"}},
	{Name: "discord", New: newDiscord, Settings: discordSettings{}, Secrets: []string{"webhook_url"}, Formats: []Format{DiscordFormat}, Limit: discordLimit, Fake: &Fake{
		Settings: "    webhook_url: http://%[1]s/api/webhooks/123/tokentokentoken\n    split: true\n", Path: "/api/webhooks/"}},
	{Name: "ntfy", New: newNtfy, Settings: ntfySettings{}, Secrets: []string{"token", "password"}, Formats: []Format{Text}, Limit: ntfyMessageLimit, Fake: &Fake{
		Settings: "    server: http://%[1]s/ntfy\n    topic: fail2ban\n", Path: "/ntfy"}},
	{Name: "teams", New: newTeams, Settings: teamsSettings{}, Secrets: []string{"webhook_url"}, Formats: []Format{TeamsFormat}, Limit: teamsLimit, Fake: &Fake{
		Settings: "    webhook_url: http://%[1]s/teams/webhook\n", Path: "/teams/"}},
	{Name: "webhook", New: newWebhook, Settings: webhookSettings{}, Secrets: []string{"url", "token"}, Formats: []Format{JSONFormat, Text}, Fake: &Fake{
		Settings: "    url: http://%[1]s/hook\n", Path: "/hook"}},
	// SMS: a summary of one message (sms.go).
	{Name: "textmagic", New: newTextMagic, Settings: textmagicSettings{}, Secrets: []string{"api_key"}, Formats: []Format{SMSFormat}, Limit: smsLimit, Fake: &Fake{
		Settings: "    username: f2bops\n    api_key: tm-api-key-Jx8Qm2Lr5vT9wZ\n    phones: [\"+447700900123\"]\n", Host: "rest.textmagic.com", Path: "/api/v2/messages"}},
	// On github.com/nikoksr/notify's services, through one wrapper (notifybridge.go).
	{Name: "pushover", New: newPushover, Settings: pushoverSettings{}, Secrets: []string{"token", "user_key"}, Formats: []Format{SMSFormat}, Limit: pushoverLimit, Fake: &Fake{
		Settings: "    token: azGDORePK8gMaC0QOYAMyEEuzJnyUi\n    user_key: uQiRzpo4DXghDmr9QzzfQu27cmVRsG\n", Host: "api.pushover.net", Path: "/1/messages.json"}},
	{Name: "mattermost", New: newMattermost, Settings: mattermostSettings{}, Secrets: []string{"password"}, Formats: []Format{Text}, Limit: mattermostLimit - 300, Fake: &Fake{
		Settings: "    url: http://%[1]s\n    login_id: f2b-bot\n    password: mm-password-Zq81xv\n    channel_id: 4xp9fdt7pbgium38k5k6ef6q1o\n", Path: "/api/v4/"}},
	{Name: "rocketchat", New: newRocketChat, Settings: rocketchatSettings{}, Secrets: []string{"token"}, Formats: []Format{Text}, Limit: rocketchatLimit - 300, Fake: &Fake{
		Settings: "    url: http://%[1]s\n    user_id: aobEdbYhXfu5hkeqG\n    token: 9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq\n    channel: \"#general\"\n", Path: "/api/v1/"}},
	{Name: "pagerduty", New: newPagerDuty, Settings: pagerdutySettings{}, Secrets: []string{"token"}, Formats: []Format{Text}, Limit: pagerdutyLimit, Fake: &Fake{
		Settings: "    token: y_NbAkKc66ryYTWUXYEu\n    from: admin@example.org\n    service_id: PWIXJZS\n    api_url: http://%[1]s\n", Path: "/incidents"}},
	{Name: "bark", New: newBark, Settings: barkSettings{}, Secrets: []string{"device_key"}, Formats: []Format{Text}, Limit: barkLimit, Fake: &Fake{
		Settings: "    device_key: yTXnR2cUeb7kq4DHpPvW3a\n    server: http://%[1]s/bark\n", Path: "/bark/"}},
	{Name: "dingtalk", New: newDingTalk, Settings: dingtalkSettings{}, Secrets: []string{"token", "secret"}, Formats: []Format{Text}, Limit: dingtalkLimit - 300, Fake: &Fake{
		Settings: "    token: 7c1a9e2f0b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6\n    secret: SEC8e2d1c0b9a8f7e6d5c4b3a29180f7e6d5c4b3a2918\n", Host: "oapi.dingtalk.com", Path: "/robot/send"}},
	{Name: "syslog", New: newSyslog, Settings: syslogSettings{}, Formats: []Format{Text}, Limit: syslogLimit - 200},
	// Hands the report to the Apprise command-line tool.
	{Name: "apprise", New: newApprise, Settings: appriseSettings{}, Secrets: []string{"urls", "config"}, Formats: []Format{Text}, Limit: appriseLimit, Fake: &Fake{
		Settings: "    urls: [\"json://%[1]s/apprise\"]\n", Path: "/apprise"}},
}

// LookupKind returns the kind called name.
func LookupKind(name string) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.Name == name })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// KindNames lists the names of the kinds, in the order of Kinds.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Name
	}
	return out
}

// SecretKey reports whether the channel setting key (without its _file
// suffix) holds a credential in any kind. Any kind's, whatever the
// channel's type: a secret given under another kind's key, or in a block
// of an unknown type, is still kept out of what f2b-notify prints.
func SecretKey(key string) bool {
	key = strings.ToLower(key)
	for _, k := range Kinds {
		if slices.Contains(k.Secrets, key) {
			return true
		}
	}
	return false
}

// New builds the channel called name of the given kind. Secrets given as
// KEY_file are read first (see ResolveFiles).
func New(name, kind string, settings map[string]any) (Channel, error) {
	k, ok := LookupKind(kind)
	if !ok {
		return nil, fmt.Errorf("channel %q: unknown type %q (known: %s)", name, kind, strings.Join(sortedKindNames(), ", "))
	}
	resolved, err := ResolveFiles(name, settings)
	if err != nil {
		return nil, err
	}
	return k.New(name, resolved)
}

func sortedKindNames() []string {
	names := KindNames()
	slices.Sort(names)
	return names
}
