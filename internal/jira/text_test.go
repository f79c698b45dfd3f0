package jira

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestStripCode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Empty", "", ""},
		{"PlainUnchanged", "h3. Problem\nA client retry  after a 504.\n\n\n* item", "h3. Problem\nA client retry  after a 504.\n\n\n* item"},
		{"MentionsAndLinks", "[~accountid:5f8a2c7d] see [PAY-101|https://x.atlassian.net/browse/PAY-101] and [~marco.bellini]",
			"[~accountid:5f8a2c7d] see [PAY-101|https://x.atlassian.net/browse/PAY-101] and [~marco.bellini]"},
		{"OtherMacrosKept", "{quote}as said{quote} {panel:title=Plan}do it{panel} {color:red}red{color}",
			"{quote}as said{quote} {panel:title=Plan}do it{panel} {color:red}red{color}"},
		{"CodeBlock", "Before\n{code}\nfunc main() {}\n{code}\nAfter", "Before\nAfter"},
		{"CodeBlockParagraphs", "Before\n\n{code:java}\nint x = 1;\n{code}\n\nAfter", "Before\n\nAfter"},
		{"CodeBlockParams", "See {code:title=Refund.java|borderStyle=solid}class Refund {}{code} here", "See here"},
		{"CodeBlockUpperCase", "a {CODE:Go}x := 1{Code} b", "a b"},
		{"CodeUnterminated", "Trace:\n{code}\nsecret := key\nmore code", "Trace:"},
		{"CodeOpenParamsUnclosed", "x {code:java\nint y;\n{code}\nz", "x\nz"},
		{"Noformat", "Log:\n{noformat}\n2026-03-04 ERROR pool exhausted\n{noformat}\nThen it recovered.", "Log:\nThen it recovered."},
		{"NoformatParams", "{noformat:borderStyle=dashed}raw{noformat}Done", "Done"},
		{"NoformatUnterminated", "x {noformat} y", "x"},
		{"Fence", "Try:\n```go\nfmt.Println(1)\n```\nok?", "Try:\nok?"},
		{"FenceLong", "a\n````\n```\nstill code\n````\nb", "a\nstill code"},
		{"FenceUnterminated", "Steps\n```\nrm -rf /", "Steps"},
		{"FenceInline", "run ```ls -la``` now", "run now"},
		{"Monospace", "see {{RefundNotifier.retry()}}. Can we reuse it?", "see. Can we reuse it?"},
		{"MonospaceMiddle", "* {{POST /v2/refunds}} accepts an {{Idempotency-Key}} header", "* accepts an header"},
		{"MonospaceWord", "the {{code}} word", "the word"},
		{"MonospaceUnclosed", "a {{b c\nnext line", "a\nnext line"},
		{"MonospaceAtStart", "{{x}} starts", "starts"},
		{"MonospaceAtEnd", "ends with {{x}}", "ends with"},
		{"Backtick", "call `retry()` then stop", "call then stop"},
		{"BacktickComma", "call `retry()`, then stop", "call, then stop"},
		{"DoubleBacktick", "use ``a ` b`` here", "use here"},
		{"LoneBacktickKept", "it`s fine", "it`s fine"},
		{"BacktickNotAcrossParagraphs", "a ` b\n\nc ` d", "a ` b\n\nc ` d"},
		{"BacktickAcrossLine", "a `b\nc` d", "a d"},
		{"BacktickInsideCode", "{code}a ` b{code} c `d` e", "c e"},
		{"CodeInsideBacktickRemoved", "x `{code}` y", "x `"},
		{"BlankLinesCollapse", "a\n\n\n{code}x{code}\n\n\nb", "a\n\nb"},
		{"CRLF", "a\r\n{code}\r\nx\r\n{code}\r\nb", "a\nb"},
		{"Indentation", "intro\n{code}x{code}\n  indented", "intro\n  indented"},
		{"OnlyCode", "{code}x{code}", ""},
		{"Unicode", "Zürich {{ü}} – déjà `vu`", "Zürich – déjà"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StripCode(tt.in)
			if got != tt.want {
				t.Errorf("StripCode(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := StripCode(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

// TestStripCodeFixtures checks the texts of the corpus: no code markup
// survives, and the prose around it does.
func TestStripCodeFixtures(t *testing.T) {
	in := "Refund webhook retries open a new HTTP connection each time; under load the pool is exhausted.\n\n" +
		"Repro: run {{load/refunds_burst.js}} against staging for 5 minutes. Seen in prod on 2026-03-04 (INC-2231)."
	want := "Refund webhook retries open a new HTTP connection each time; under load the pool is exhausted.\n\n" +
		"Repro: run against staging for 5 minutes. Seen in prod on 2026-03-04 (INC-2231)."
	if got := StripCode(in); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestStripCodeLinear guards against searches that rescan the text: on 1 MB
// of pathological markup a quadratic StripCode takes minutes.
func TestStripCodeLinear(t *testing.T) {
	for _, unit := range []string{"`a", "``a", "{{x\n", "`{{\n", "{code}", "{code:", "```", "{", "\n "} {
		s := strings.Repeat(unit, (1<<20)/len(unit))
		start := time.Now()
		StripCode(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q × %d: %v", unit, len(s)/len(unit), d)
		}
	}
}

// codeMarkers are the openings StripCode removes; none may be left in its
// output, whatever the input.
var codeMarkers = []string{"{code}", "{code:", "{noformat}", "{noformat:", "```", "{{"}

// asciiLower lower-cases ASCII letters only, as StripCode matches markers.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func FuzzStripCode(f *testing.F) {
	for _, s := range []string{
		"", "plain text", "{code}x{code}", "{code:java}\nint x;\n", "{noformat}a{noformat}b", "```\ncode\n```",
		"see {{x}}. ok", "`a` b ``c`` d", "a ` b\n\nc ` d", "{{code}", "{co{code}x{code}de}", "{code`x`}",
		"`a {code}\n\n{code} b`", "a\n{{x}}\n\n`b", "x\r\n\r\n{code}y", "```a``b```", "{{{{x}}}}", "{`x`{y}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := StripCode(s)
		// Idempotent: what it keeps contains nothing more to remove, and
		// gaps are never closed so tightly that new markup forms.
		if again := StripCode(out); again != out {
			t.Fatalf("not idempotent:\n in %q\nout %q\n2nd %q", s, out, again)
		}
		lower := asciiLower(out)
		for _, m := range codeMarkers {
			if strings.Contains(lower, m) {
				t.Fatalf("output keeps %q:\n in %q\nout %q", m, s, out)
			}
		}
		if len(out) > len(s) {
			t.Fatalf("output longer than input: %q → %q", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", s, out)
		}
		if !strings.ContainsAny(s, "{`") && out != s {
			t.Fatalf("text without markup changed: %q → %q", s, out)
		}
	})
}
