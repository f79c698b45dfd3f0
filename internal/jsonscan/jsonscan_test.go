package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// Value accepts exactly the JSON values encoding/json accepts (within
// MaxDepth), and stops right after the value.
func TestValueAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`0`, `-0`, `1.5e-3`, `-12E+4`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9"`, `"bad \x"`, `"bad \u12g4"`, "\"ctl \x01\"", `"open`,
		`true`, `false`, `null`, `nul`, `tru`,
		`[]`, `[1,"a",[{}]]`, `[1,]`, `[1 2]`, ` [ 1 , 2 ] `,
		`{}`, `{"a":1,"b":[true,null]}`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `{"a":1`,
		strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5),
	} {
		s := Scanner{Data: []byte(in)}
		s.SkipSpace()
		ok := s.Value(0)
		if ok {
			s.SkipSpace()
			ok = s.Pos == len(in)
		}
		deep := strings.HasPrefix(in, strings.Repeat("[", MaxDepth+1))
		if want := json.Valid([]byte(in)) && !deep; ok != want {
			t.Errorf("Value(%.40q) = %v, encoding/json says valid = %v", in, ok, want)
		}
	}
}

func TestKeyGivesUpOnEscapesAndNonASCII(t *testing.T) {
	for in, want := range map[string]string{`"plain"`: "plain", `"es\u0063"`: "", `"été"`: ""} {
		s := Scanner{Data: []byte(in)}
		key, ok := s.Key()
		if !ok || string(key) != want || (want == "") != (key == nil) {
			t.Errorf("Key(%s) = %q, %v; want %q", in, key, ok, want)
		}
	}
}

func TestASCIIFold(t *testing.T) {
	for _, c := range []struct {
		key, name string
		want      bool
	}{{"webhookEvent", "webhookEvent", true}, {"WEBHOOKEVENT", "webhookEvent", true}, {"webhook_event", "webhookEvent", false},
		{"a_b", "a_b", true}, {"a_b", "a\x7fb", false}, {"abc", "ab", false}} {
		if got := ASCIIFold([]byte(c.key), c.name); got != c.want {
			t.Errorf("ASCIIFold(%q, %q) = %v", c.key, c.name, got)
		}
	}
}
