package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/chronicle-es/chronicle/internal/logging"
)

func TestJSONWithReadableDurations(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelDebug)
	logger.Info("waited", "timeout", 100*time.Millisecond, slog.Group("g", "d", 1500*time.Millisecond))
	logging.Redis(logger).Printf(context.Background(), "redis: %s\n", "discarding bad PubSub connection")

	dec := json.NewDecoder(&buf)
	var lines []map[string]any
	for dec.More() {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("a line that is not JSON: %v (%q)", err, buf.String())
		}
		lines = append(lines, line)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	if lines[0]["timeout"] != "100ms" || lines[0]["g"].(map[string]any)["d"] != "1.5s" {
		t.Errorf("durations %v, %v; want \"100ms\", \"1.5s\"", lines[0]["timeout"], lines[0]["g"])
	}
	if lines[1]["msg"] != "redis: discarding bad PubSub connection" || lines[1]["level"] != "WARN" || lines[1]["component"] != "go-redis" {
		t.Errorf("go-redis line %v", lines[1])
	}
}
