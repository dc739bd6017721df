package eventstore

import (
	"fmt"

	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/google/uuid"
)

// ErrWrongExpectedVersion is matched (errors.Is) by every *WrongExpectedVersionError.
var ErrWrongExpectedVersion = apperr.New(apperr.Conflict, "wrong expected version")

// ErrIdempotencyKeyReused is returned when an idempotency key that was used
// for one command and stream comes back with another.
var ErrIdempotencyKeyReused = apperr.New(apperr.BadUserInput, "idempotency key already used for another command")

// WrongExpectedVersionError says that a stream was not at the version an
// append expected. Nothing was appended.
type WrongExpectedVersionError struct {
	StreamID uuid.UUID
	Expected int64
	// Actual is the stream's version when the append was refused (0 when the
	// stream does not exist).
	Actual int64
}

func (e *WrongExpectedVersionError) Error() string {
	return fmt.Sprintf("stream %s: expected version %s, actual version %d", e.StreamID, versionString(e.Expected), e.Actual)
}

// Unwrap makes errors.Is(err, ErrWrongExpectedVersion) and apperr.CodeOf work.
func (e *WrongExpectedVersionError) Unwrap() error { return ErrWrongExpectedVersion }

func versionString(v int64) string {
	switch v {
	case Any:
		return "any"
	case NoStream:
		return "0 (no stream)"
	}
	return fmt.Sprint(v)
}
