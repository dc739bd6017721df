package database_test

import (
	"context"
	"testing"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// uuid.UUID goes to PostgreSQL and back unchanged through the registered
// codec: as a parameter, in an array, scanned, as NULL, and over the simple
// protocol (text format).
func TestUUIDRoundTrip(t *testing.T) {
	pool, _ := pgtest.NewPool(t)
	ctx := context.Background()
	id, other := uuid.MustParse("0190b2a4-1234-7000-8000-00000000abcd"), uuid.New()

	var (
		got  uuid.UUID
		text string
		ids  []uuid.UUID
	)
	err := pool.QueryRow(ctx, `SELECT $1::uuid, $1::uuid::text, $2::uuid[]`, id, []uuid.UUID{id, other}).Scan(&got, &text, &ids)
	if err != nil {
		t.Fatal(err)
	}
	if got != id || text != id.String() || len(ids) != 2 || ids[0] != id || ids[1] != other {
		t.Fatalf("got %v, %q, %v; want %v twice and then %v", got, text, ids, id, other)
	}

	if err := pool.QueryRow(ctx, `SELECT $1::uuid::text`, pgx.QueryExecModeSimpleProtocol, id).Scan(&text); err != nil || text != id.String() {
		t.Fatalf("simple protocol: %q, %v; want %q", text, err, id)
	}
	if err := pool.QueryRow(ctx, `SELECT $1::text::uuid`, pgx.QueryExecModeSimpleProtocol, other.String()).Scan(&got); err != nil || got != other {
		t.Fatalf("scan text format: %v, %v; want %v", got, err, other)
	}

	// NULL leaves the target as it is, as uuid.UUID.Scan(nil) does.
	got = id
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&got); err != nil || got != id {
		t.Fatalf("scan NULL: %v, %v; want %v untouched", got, err, id)
	}
	// Other Go types still go through pgtype.UUIDCodec.
	var pg pgtype.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid`, pgtype.UUID{Bytes: id, Valid: true}).Scan(&pg); err != nil || pg.Bytes != id {
		t.Fatalf("pgtype.UUID: %v, %v", pg, err)
	}
}

// BenchmarkUUIDParam encodes one uuid.UUID parameter as pgx's extended
// protocol does (preferred format first, the other one if that fails),
// with pgx's default type map and with RegisterUUID:
//
//	go test -run '^$' -bench UUID -benchmem ./internal/database/
func BenchmarkUUIDParam(b *testing.B) {
	id := uuid.New()
	for _, tc := range typeMaps() {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			for b.Loop() {
				format := tc.m.FormatCodeForOID(pgtype.UUIDOID)
				out, err := tc.m.Encode(pgtype.UUIDOID, format, id, buf[:0])
				if err != nil {
					out, err = tc.m.Encode(pgtype.UUIDOID, 1-format, id, buf[:0])
				}
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUUIDScan scans a binary uuid column into a *uuid.UUID.
func BenchmarkUUIDScan(b *testing.B) {
	id := uuid.New()
	for _, tc := range typeMaps() {
		b.Run(tc.name, func(b *testing.B) {
			var got uuid.UUID
			for b.Loop() {
				if err := tc.m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, id[:], &got); err != nil {
					b.Fatal(err)
				}
			}
			if got != id {
				b.Fatalf("scanned %v, want %v", got, id)
			}
		})
	}
}

type namedMap struct {
	name string
	m    *pgtype.Map
}

// typeMaps returns pgx's default type map and one with RegisterUUID.
func typeMaps() []namedMap {
	registered := pgtype.NewMap()
	database.RegisterUUID(registered)
	return []namedMap{{"default", pgtype.NewMap()}, {"registered", registered}}
}
