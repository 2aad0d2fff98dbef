package store

import (
	"errors"
	"fmt"
)

// The typed errors every layer wraps, so main can map them to exit codes and
// messages in one place. Wrap with fmt.Errorf("...: %w", ErrNotFound) or use
// the helpers below.
var (
	// ErrNotFound: no such image, container, volume, tag...
	ErrNotFound = errors.New("not found")
	// ErrConflict: a name in use, an image in use, a container running...
	ErrConflict = errors.New("conflict")
	// ErrInvalid: bad user input (a reference, a flag value, a spec).
	ErrInvalid = errors.New("invalid argument")
)

type typed struct {
	kind error
	msg  string
}

func (e *typed) Error() string { return e.msg }
func (e *typed) Unwrap() error { return e.kind }

// NotFound returns an error whose message is exactly the formatted text and
// which matches errors.Is(err, ErrNotFound).
func NotFound(format string, a ...any) error {
	return &typed{ErrNotFound, fmt.Sprintf(format, a...)}
}

// Conflict is NotFound's counterpart for ErrConflict.
func Conflict(format string, a ...any) error {
	return &typed{ErrConflict, fmt.Sprintf(format, a...)}
}

// Invalid is NotFound's counterpart for ErrInvalid.
func Invalid(format string, a ...any) error {
	return &typed{ErrInvalid, fmt.Sprintf(format, a...)}
}
