package database

import (
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterUUID makes m encode and scan google/uuid's uuid.UUID as the
// PostgreSQL uuid type directly, in the binary format: 16 bytes copied.
//
// Why: pgx knows nothing of uuid.UUID (a [16]byte with a driver.Valuer), so
// without this every uuid parameter takes pgx's fallbacks: the binary plan is
// tried first and fails (building an encode error with fmt), then the text
// plan calls Value(), formats 36 characters and PostgreSQL parses them; a
// scanned uuid is formatted to text by pgx and parsed back by uuid.Scan.
// Every command and by-id query passes ids, so this was a tenth of the
// server's CPU per credit. Arrays of uuid ([]uuid.UUID) use the element
// plan and gain the same way.
//
// Behaviour is unchanged otherwise: other Go types are handed on to
// pgtype.UUIDCodec, and a NULL scanned into a *uuid.UUID leaves it as it is,
// as uuid.UUID.Scan(nil) does.
func RegisterUUID(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
	// For parameters whose type PostgreSQL does not say (the simple protocol).
	m.RegisterDefaultPgType(uuid.UUID{}, "uuid")
}

// uuidCodec is pgtype.UUIDCodec with plans for uuid.UUID in front.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(uuid.UUID); ok {
		switch format {
		case pgtype.BinaryFormatCode:
			return encodeUUIDBinary{}
		case pgtype.TextFormatCode:
			return encodeUUIDText{}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok && format == pgtype.BinaryFormatCode {
		return scanUUIDBinary{}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type encodeUUIDBinary struct{}

func (encodeUUIDBinary) Encode(value any, buf []byte) ([]byte, error) {
	u := value.(uuid.UUID)
	return append(buf, u[:]...), nil
}

type encodeUUIDText struct{}

func (encodeUUIDText) Encode(value any, buf []byte) ([]byte, error) {
	return append(buf, value.(uuid.UUID).String()...), nil
}

type scanUUIDBinary struct{}

func (scanUUIDBinary) Scan(src []byte, dst any) error {
	if src == nil {
		return nil // as uuid.UUID.Scan(nil): the target is left as it is
	}
	if len(src) != 16 {
		return errors.New("invalid length for uuid")
	}
	copy(dst.(*uuid.UUID)[:], src)
	return nil
}
