package model

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSON is the JSON scalar: a raw JSON document, written out as is.
type JSON json.RawMessage

// MarshalGQL writes the raw document ("null" when empty).
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// UnmarshalGQL accepts any input value and stores its JSON encoding.
func (j *JSON) UnmarshalGQL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("JSON scalar: %w", err)
	}
	*j = b
	return nil
}
