// Package migrations embeds the SQL migrations applied at start (pressly/goose
// format: one numbered file per step, "-- +goose Up" / "-- +goose Down").
package migrations

import "embed"

// FS holds every *.sql migration in this folder.
//
//go:embed *.sql
var FS embed.FS
