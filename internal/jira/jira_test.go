package jira

import (
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The vector from Atlassian's documentation.
func TestSignDocumentedVector(t *testing.T) {
	got := Sign([]byte("Hello World!"), []byte("It's a Secret to Everybody"))
	want := "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// The fixtures README's vectors, over the exact file bytes.
func TestFixtureSignatureVectors(t *testing.T) {
	secret := []byte("pay-webhook-test-secret-2026")
	for file, sig := range map[string]string{
		"cloud/issue_created.json":                    "sha256=d5d858774fa8ceac6148c96ba15774c74f3b99c4622032fdb34f3754cd8cc587",
		"cloud/comment_created.json":                  "sha256=842148f94c78e0107ddecdb153dfce331c6ca68a770255da4b13f6714f947048",
		"cloud/issuelink_created.json":                "sha256=b82541e1f5929f2c17b8119f7a0c06bb80505cf920be7229f8728c9c2fb93a21",
		"datacenter/dc_issue_updated_status.json":     "sha256=a4b83adfedfc6af4ffb42cb2e766542988bf277e072ad8ab29d6cd254fa033bc",
		"ignored/board_created.json":                  "sha256=2b077346421a4fa52402ab015cf6d6fb77cb3bd53f342b4a769a127421f6c660",
		"cloud/issue_updated_status_in_progress.json": "sha256=433e05a81d37ee2c6ac513a36c3923729849337dd821d768e1ff60410607590c",
	} {
		body, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{HeaderSignature: {sig}}
		if !Authenticate(h, body, secret) {
			t.Errorf("%s: documented signature rejected", file)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	secret := []byte("pay-webhook-test-secret-2026")
	body := []byte(`{"webhookEvent":"jira:issue_created","timestamp":1}`)
	good := Sign(body, secret)
	basic := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		want   bool
	}{
		{"OK signature", http.Header{HeaderSignature: {good}}, body, true},
		{"OK token", http.Header{HeaderToken: {string(secret)}}, body, true},
		{"OK basic auth", http.Header{"Authorization": {basic("jira", string(secret))}}, body, true},
		{"OK basic auth empty user", http.Header{"Authorization": {basic("", string(secret))}}, body, true},
		{"ErrNoHeader", http.Header{}, body, false},
		{"ErrWrongSecret", http.Header{HeaderSignature: {Sign(body, []byte("other"))}}, body, false},
		{"ErrSignatureOfOtherBody", http.Header{HeaderSignature: {good}}, []byte(`{"webhookEvent":"x"}`), false},
		{"ErrPrefixMissing", http.Header{HeaderSignature: {strings.TrimPrefix(good, "sha256=")}}, body, false},
		{"ErrPrefixUnknown", http.Header{HeaderSignature: {"sha1=" + strings.TrimPrefix(good, "sha256=")}}, body, false},
		{"ErrPrefixUpperCase", http.Header{HeaderSignature: {"SHA256=" + strings.TrimPrefix(good, "sha256=")}}, body, false},
		{"ErrTruncated", http.Header{HeaderSignature: {good[:len(good)-2]}}, body, false},
		{"ErrNonHex", http.Header{HeaderSignature: {good[:len(good)-1] + "z"}}, body, false},
		{"ErrEmptySignature", http.Header{HeaderSignature: {"sha256="}}, body, false},
		{"ErrEmptyBodySignedOtherwise", http.Header{HeaderSignature: {good}}, nil, false},
		{"ErrWrongToken", http.Header{HeaderToken: {"nope"}}, body, false},
		{"ErrTokenPrefixOfSecret", http.Header{HeaderToken: {string(secret[:10])}}, body, false},
		{"ErrBasicWrongPassword", http.Header{"Authorization": {basic("jira", "nope")}}, body, false},
		{"ErrBasicNotBase64", http.Header{"Authorization": {"Basic !!!"}}, body, false},
		{"ErrBearerIsNotBasic", http.Header{"Authorization": {"Bearer " + string(secret)}}, body, false},
		{"OK one good method among bad", http.Header{HeaderToken: {"nope"}, HeaderSignature: {good}}, body, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Authenticate(tc.header, tc.body, secret); got != tc.want {
				t.Fatalf("Authenticate = %v, want %v", got, tc.want)
			}
		})
	}
	if Authenticate(http.Header{HeaderToken: {""}}, body, nil) {
		t.Fatal("empty secret authenticated an empty token")
	}
}

func TestInspect(t *testing.T) {
	for _, tc := range []struct {
		file, event, site string
	}{
		{"cloud/issue_created.json", "jira:issue_created", "https://acme-pay.atlassian.net"},
		{"cloud/worklog_created.json", "worklog_created", "https://acme-pay.atlassian.net"},
		{"cloud/issuelink_created.json", "issuelink_created", ""},
		{"cloud/sprint_started.json", "sprint_started", "https://acme-pay.atlassian.net"},
		{"cloud/version_released.json", "jira:version_released", "https://acme-pay.atlassian.net"},
		{"cloud/project_created.json", "project_created", "https://acme-pay.atlassian.net"},
		{"datacenter/dc_comment_created.json", "comment_created", "https://jira.acme-pay.internal"},
		{"ignored/board_created.json", "board_created", "https://acme-pay.atlassian.net"},
	} {
		body, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		env, err := Inspect(body)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if env.Event != tc.event || env.Site != tc.site || env.Timestamp.IsZero() {
			t.Errorf("%s: got %+v, want event %s site %q and a timestamp", tc.file, env, tc.event, tc.site)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{`, `{}`, `{"webhookEvent":""}`, `{"webhookEvent":5}`, "{\"webhookEvent\":\"x\"} trailing"} {
		if _, err := Inspect([]byte(bad)); !errors.Is(err, ErrNotWebhook) {
			t.Errorf("Inspect(%q) err = %v, want ErrNotWebhook", bad, err)
		}
	}
}

func TestProcessed(t *testing.T) {
	for ev, want := range map[string]bool{
		"jira:issue_updated": true, "comment_deleted": true, "worklog_created": true, "issuelink_deleted": true,
		"sprint_closed": true, "project_soft_deleted": true, "jira:version_merged": true,
		"board_created": false, "user_created": false, "issuetype_updated": false, "filter_updated": false,
		"option_timetracking_changed": false, "issue_property_set": false, "attachment_created": false, "": false,
	} {
		if Processed(ev) != want {
			t.Errorf("Processed(%q) = %v, want %v", ev, !want, want)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	long := strings.Repeat("7", 200)
	for _, tc := range []struct {
		identifier, retry string
		wantID            string
		wantRetry         int
	}{
		{"69312270414585119", "", "69312270414585119", 0},
		{" 69312270414585119 ", "2", "69312270414585119", 2},
		{"", "", "", 0},
		{"1", "-4", "1", 0},
		{"1", "100000", "1", 0},
		{"1", "x", "1", 0},
	} {
		h := http.Header{}
		h.Set(HeaderIdentifier, tc.identifier)
		h.Set(HeaderRetry, tc.retry)
		id, retry := Source{}.DeliveryID(h)
		if id != tc.wantID || retry != tc.wantRetry {
			t.Errorf("DeliveryID(%q, %q) = %q, %d; want %q, %d", tc.identifier, tc.retry, id, retry, tc.wantID, tc.wantRetry)
		}
	}
	// Identifiers that are too long or not text are hashed, never cut: two
	// that share a prefix stay two.
	seen := map[string]string{}
	for _, raw := range []string{long, long + "8", long + "9", "a\xffb", "a\xfeb", "a\x00b"} {
		h := http.Header{}
		h[HeaderIdentifier] = []string{raw}
		id, _ := Source{}.DeliveryID(h)
		if len(id) > 128 || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
			t.Errorf("DeliveryID(%q) = %q", raw, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q give the same identifier %q", other, raw, id)
		}
		seen[id] = raw
	}
}

func TestPlainID(t *testing.T) {
	for s, want := range map[string]bool{
		"5f8a2c7d9e1b4a0068c3d2e1":                    true,
		"712020:3f1c9a52-7b4e-4d6a-9c2e-8a1b5d7e9f01": true,
		"JIRAUSER10100":                               true,
		"PAY-101":                                     true,
		"acme-pay.atlassian.net":                      true,
		"":                                            false,
		"bob\x00":                                     false,
		"bob\xff":                                     false,
		"line\nbreak":                                 false,
		strings.Repeat("x", 255):                      true,
		strings.Repeat("x", 256):                      false,
	} {
		if got := PlainID(s); got != want {
			t.Errorf("PlainID(%.40q) = %v", s, got)
		}
	}
}
