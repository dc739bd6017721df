package aggregate

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Events is the registry of one stream type's event types: for each stored
// type name, the Go type it decodes into and its current schema version. It
// is the one place where an event's version is declared: the repository
// stamps new events with it, and Decode accepts it (and, through upcasters,
// older ones).
//
// Build it once, at package initialisation, with Register; it is read-only
// afterwards and safe for concurrent use.
type Events struct {
	context string
	types   map[string]*eventType
}

type eventType struct {
	version int
	decode  func(data []byte) (Event, error)
	// upcasters[v] turns a payload of schema version v into version v+1.
	upcasters map[int]Upcaster
}

// Upcaster turns the JSON payload of one stored schema version of an event
// type into the next version's shape. It must be pure: stored events are
// never rewritten, so it runs on every read of an old event.
type Upcaster func(data []byte) ([]byte, error)

// NewEvents returns an empty registry for the events of a bounded context;
// context names it in error messages ("account").
func NewEvents(context string) *Events {
	return &Events{context: context, types: map[string]*eventType{}}
}

// Register declares event type E, stored as plain JSON under E's EventType
// name, at schema version version (1 for a type's first shape). It returns r
// for chaining. Registering a name twice, or a version below 1, is a
// programming error and panics (at package initialisation).
func Register[E Event](r *Events, version int) *Events {
	var zero E
	name := zero.EventType()
	if version < 1 {
		panic(fmt.Sprintf("%s: event %s: schema version %d, want at least 1", r.context, name, version))
	}
	if _, dup := r.types[name]; dup {
		panic(fmt.Sprintf("%s: event %s registered twice", r.context, name))
	}
	if reflect.TypeFor[E]().Kind() == reflect.Pointer {
		panic(fmt.Sprintf("%s: event %s: register the value type, not a pointer", r.context, name))
	}
	r.types[name] = &eventType{
		version: version,
		decode: func(data []byte) (Event, error) {
			var e E
			if err := json.Unmarshal(data, &e); err != nil {
				return nil, err
			}
			return e, nil
		},
		upcasters: map[int]Upcaster{},
	}
	return r
}

// Upcast registers up, which turns the payload of eventType stored at schema
// version from into version from+1. Decode chains upcasters from a stored
// version to the current one. It returns r for chaining; an unknown type, a
// version outside 1..current-1 or a second upcaster for the same version
// panics (a programming error, at package initialisation).
func (r *Events) Upcast(eventType string, from int, up Upcaster) *Events {
	t, ok := r.types[eventType]
	if !ok {
		panic(fmt.Sprintf("%s: upcaster for unregistered event %s", r.context, eventType))
	}
	if from < 1 || from >= t.version {
		panic(fmt.Sprintf("%s: event %s: upcaster from version %d, current is %d", r.context, eventType, from, t.version))
	}
	if _, dup := t.upcasters[from]; dup {
		panic(fmt.Sprintf("%s: event %s: two upcasters from version %d", r.context, eventType, from))
	}
	t.upcasters[from] = up
	return r
}

// Version returns eventType's current schema version, and false for a type
// that is not registered.
func (r *Events) Version(eventType string) (int, bool) {
	t, ok := r.types[eventType]
	if !ok {
		return 0, false
	}
	return t.version, true
}

// Decode turns a stored event back into its Go value (the registered value
// type, never a pointer). A payload stored at an older schema version goes
// through the registered upcasters first.
//
// Errors: one wrapping ErrUnknownEventType for a type that is not
// registered; a plain (internal) error for a version above the current one,
// an older version without an upcaster, or a payload that is not the
// event's JSON shape.
func (r *Events) Decode(eventType string, schemaVersion int, data []byte) (Event, error) {
	t, ok := r.types[eventType]
	if !ok {
		return nil, fmt.Errorf("%s: event type %q: %w", r.context, eventType, ErrUnknownEventType)
	}
	data, _, err := r.upgrade(t, eventType, schemaVersion, data)
	if err != nil {
		return nil, err
	}
	e, err := t.decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", r.context, eventType, err)
	}
	return e, nil
}

// Upgrade returns the payload of a stored event in its current shape and
// schema version, through the registered upcasters: what an audit trail
// shows, so that it reads like every other reader. Errors: as Decode's.
func (r *Events) Upgrade(eventType string, schemaVersion int, data []byte) ([]byte, int, error) {
	t, ok := r.types[eventType]
	if !ok {
		return nil, 0, fmt.Errorf("%s: event type %q: %w", r.context, eventType, ErrUnknownEventType)
	}
	return r.upgrade(t, eventType, schemaVersion, data)
}

func (r *Events) upgrade(t *eventType, eventType string, schemaVersion int, data []byte) ([]byte, int, error) {
	if schemaVersion <= 0 {
		schemaVersion = 1 // the store keeps 0 as 1; older rows may say 0
	}
	if schemaVersion > t.version {
		return nil, 0, fmt.Errorf("%s: %s: stored schema version %d is newer than this server's %d", r.context, eventType, schemaVersion, t.version)
	}
	for v := schemaVersion; v < t.version; v++ {
		up, ok := t.upcasters[v]
		if !ok {
			return nil, 0, fmt.Errorf("%s: %s: no upcaster from schema version %d", r.context, eventType, v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, 0, fmt.Errorf("%s: upcast %s from version %d: %w", r.context, eventType, v, err)
		}
	}
	return data, t.version, nil
}

// Encode returns e's stored form: its type name, its registered schema
// version and its JSON payload. Errors: an unregistered event type, a value
// that does not marshal.
func (r *Events) Encode(e Event) (name string, version int, data []byte, err error) {
	name = e.EventType()
	t, ok := r.types[name]
	if !ok {
		return "", 0, nil, fmt.Errorf("%s: encode %s: %w", r.context, name, ErrUnknownEventType)
	}
	if data, err = json.Marshal(e); err != nil {
		return "", 0, nil, fmt.Errorf("%s: encode %s: %w", r.context, name, err)
	}
	return name, t.version, data, nil
}
