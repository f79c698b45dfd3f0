package cogniscape

import (
	"errors"
	"fmt"
)

// Error codes. Adapters translate their own failures into these so that no
// layer above the store needs to know which database it runs on.
const (
	EINVALID      = "invalid"      // the input is malformed
	ENOTFOUND     = "not_found"    // the entity does not exist (or belongs to someone else)
	ECONFLICT     = "conflict"     // the entity exists already (a duplicate delivery, say)
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EUNAVAILABLE  = "unavailable"  // a dependency (the store) failed; the caller may retry
	EINTERNAL     = "internal"     // anything else
)

// Error is a domain error with a code that maps to a protocol status and a
// message safe to show to the caller.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for logs; never shown to callers
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
