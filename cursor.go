package cogniscape

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// EncodeIssueCursor makes the opaque cursor of an issue list page: the
// position (last activity, store id) of the page's last issue.
func EncodeIssueCursor(lastAt, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastAt, 10) + ":" + strconv.FormatInt(id, 10)))
}

// DecodeIssueCursor reads a cursor made by EncodeIssueCursor (EINVALID if it
// is not one).
func DecodeIssueCursor(c string) (lastAt, id int64, err error) {
	bad := Errorf(EINVALID, "invalid cursor")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, 0, bad
	}
	lastAt, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, bad
	}
	return lastAt, id, nil
}
