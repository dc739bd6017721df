package datasubject

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Keys seals and opens personal fields with the data keys of
// data_subject_keys, wrapped by one MasterKey. It implements
// eventstore.Sealer. It holds no keys in memory between calls: an erasure
// on any instance takes effect on every instance's next read.
type Keys struct {
	master *MasterKey
}

// NewKeys returns the Keys of master.
func NewKeys(master *MasterKey) *Keys { return &Keys{master: master} }

// dataKeySize is a data key's length in bytes (AES-256).
const dataKeySize = 32

// keyAttempts bounds Seal's get-or-create of one key: a concurrent
// creator can win the insert at most once per erasure.
const keyAttempts = 5

// Seal implements eventstore.Sealer: it encrypts, in place, the personal
// fields (top-level JSON string fields) of the events that name any, under
// the key of their subject in organization, created on first use in tx; and
// records that the stream holds values of that key. A field that is empty,
// or sealed already (copied from another event), is left as it is. It runs
// in the append's transaction, so a key and its first use commit together,
// and the key row is share-locked until the append commits: an erasure
// waits for appends that use the key, and an append after it gets a new key.
//
// Errors: a payload that is not a JSON object, a personal field that is not
// a string, and the database's.
func (k *Keys) Seal(ctx context.Context, tx eventstore.Querier, organization string, streamID uuid.UUID, streamType string, events []eventstore.EventData) error {
	keys := map[string]keyRef{} // by subject
	linked := map[uuid.UUID]bool{}
	for i := range events {
		p := events[i].Personal
		if p == nil || len(p.Fields) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(events[i].Data, &obj); err != nil {
			return fmt.Errorf("seal %s: payload is not a JSON object: %w", events[i].Type, err)
		}
		changed := false
		for _, field := range p.Fields {
			raw, ok := obj[field]
			if !ok {
				continue
			}
			var plain string
			if err := json.Unmarshal(raw, &plain); err != nil {
				return fmt.Errorf("seal %s.%s: not a string: %w", events[i].Type, field, err)
			}
			if plain == "" {
				continue
			}
			if id, _, ok := sealedKeyID(plain); ok {
				linked[id] = true
				continue
			}
			ref, ok := keys[p.Subject]
			if !ok {
				var err error
				if ref, err = k.keyFor(ctx, tx, organization, p.Subject); err != nil {
					return err
				}
				keys[p.Subject] = ref
			}
			linked[ref.id] = true
			sealed, err := json.Marshal(sealValue(ref.aead, organization, ref.id, plain))
			if err != nil {
				return err
			}
			obj[field], changed = sealed, true
		}
		if changed {
			data, err := json.Marshal(obj)
			if err != nil {
				return fmt.Errorf("seal %s: %w", events[i].Type, err)
			}
			events[i].Data = data
		}
	}
	for id := range linked {
		if _, err := tx.Exec(ctx, `INSERT INTO data_subject_streams (key_id, stream_id, stream_type) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, id, streamID, streamType); err != nil {
			return fmt.Errorf("link stream %s to its data key: %w", streamID, err)
		}
	}
	return nil
}

// keyRef is one data key, unwrapped.
type keyRef struct {
	id   uuid.UUID
	aead cipher.AEAD
}

// keyFor returns subject's key in organization, share-locked in tx, and
// creates it when there is none.
func (k *Keys) keyFor(ctx context.Context, tx eventstore.Querier, organization, subject string) (keyRef, error) {
	index := k.master.subjectIndex(organization, subject)
	for range keyAttempts {
		var (
			id      uuid.UUID
			wrapped []byte
		)
		err := tx.QueryRow(ctx, `SELECT key_id, wrapped_key FROM data_subject_keys
			WHERE organization = $1 AND subject_index = $2 FOR SHARE`, organization, index).Scan(&id, &wrapped)
		if err == nil {
			aead, err := k.master.unwrapKey(organization, id, wrapped)
			return keyRef{id: id, aead: aead}, err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return keyRef{}, fmt.Errorf("read data key: %w", err)
		}
		raw := make([]byte, dataKeySize)
		_, _ = rand.Read(raw)
		id = uuid.New()
		tag, err := tx.Exec(ctx, `INSERT INTO data_subject_keys (key_id, organization, subject_index, wrapped_key)
			VALUES ($1, $2, $3, $4) ON CONFLICT (organization, subject_index) DO NOTHING`,
			id, organization, index, k.master.wrapKey(organization, id, raw))
		if err != nil {
			return keyRef{}, fmt.Errorf("create data key: %w", err)
		}
		if tag.RowsAffected() == 1 {
			aead, err := newAEAD(raw)
			return keyRef{id: id, aead: aead}, err
		}
		// A concurrent append created it first: read it (a new snapshot).
	}
	return keyRef{}, fmt.Errorf("data key of a subject: still contended after %d attempts", keyAttempts)
}

// sealedMarker finds payloads that may hold sealed values without parsing.
var sealedMarker = []byte(`"` + sealedPrefix)

// Open replaces, in place, every sealed top-level string field of events
// with its plain value, or with Erased when its key was erased, does not
// open (another master key, tampered) or belongs to another organization
// than the event's tenant. Payloads without sealed values are not parsed.
// q reads the keys (one query for the whole slice).
//
// Errors: the database's; a payload with a sealed value that is not a JSON
// object.
func (k *Keys) Open(ctx context.Context, q eventstore.Querier, events []eventstore.RecordedEvent) error {
	var idx []int
	for i := range events {
		if bytes.Contains(events[i].Data, sealedMarker) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	objs := make([]map[string]json.RawMessage, len(idx))
	var ids []uuid.UUID
	for j, i := range idx {
		if err := json.Unmarshal(events[i].Data, &objs[j]); err != nil {
			return fmt.Errorf("open event %d: %w", events[i].Position, err)
		}
		for _, raw := range objs[j] {
			if s, ok := sealedRaw(raw); ok {
				id, _, _ := sealedKeyID(s)
				ids = append(ids, id)
			}
		}
	}
	ring, err := k.ring(ctx, q, ids)
	if err != nil {
		return err
	}
	for j, i := range idx {
		for field, raw := range objs[j] {
			if s, ok := sealedRaw(raw); ok {
				plain, _ := json.Marshal(ring.open(events[i].Metadata.Tenant, s))
				objs[j][field] = plain
			}
		}
		data, err := json.Marshal(objs[j])
		if err != nil {
			return err
		}
		events[i].Data = data
	}
	return nil
}

// OpenValues replaces, in place, each sealed value among values with its
// plain value or Erased, for organization; other values stay as they are.
// A process manager uses it to hand a customer's sealed name and e-mail on
// to a command. Errors: the database's.
func (k *Keys) OpenValues(ctx context.Context, q eventstore.Querier, organization string, values ...*string) error {
	var ids []uuid.UUID
	for _, v := range values {
		if id, _, ok := sealedKeyID(*v); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ring, err := k.ring(ctx, q, ids)
	if err != nil {
		return err
	}
	for _, v := range values {
		if IsSealed(*v) {
			*v = ring.open(organization, *v)
		}
	}
	return nil
}

// sealedRaw returns the sealed value a JSON string holds, if it holds one
// that names a key.
func sealedRaw(raw json.RawMessage) (string, bool) {
	if !bytes.HasPrefix(raw, sealedMarker) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	_, _, ok := sealedKeyID(s)
	return s, ok
}

// keyRing is the data keys one read found, by id, with their organization.
type keyRing map[uuid.UUID]ringKey

type ringKey struct {
	organization string
	aead         cipher.AEAD
}

// ring reads and unwraps the keys of ids that still exist.
func (k *Keys) ring(ctx context.Context, q eventstore.Querier, ids []uuid.UUID) (keyRing, error) {
	rows, err := q.Query(ctx, `SELECT key_id, organization, wrapped_key FROM data_subject_keys WHERE key_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read data keys: %w", err)
	}
	defer rows.Close()
	ring := keyRing{}
	for rows.Next() {
		var (
			id      uuid.UUID
			org     string
			wrapped []byte
		)
		if err := rows.Scan(&id, &org, &wrapped); err != nil {
			return nil, fmt.Errorf("read data keys: %w", err)
		}
		aead, err := k.master.unwrapKey(org, id, wrapped)
		if err != nil {
			// Another master key's: its values read as erased, like
			// those of a deleted key, rather than failing every read.
			continue
		}
		ring[id] = ringKey{organization: org, aead: aead}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read data keys: %w", err)
	}
	return ring, nil
}

// open returns sealed's plain value in organization, or Erased.
func (r keyRing) open(organization, sealed string) string {
	id, body, ok := sealedKeyID(sealed)
	if !ok {
		return Erased
	}
	key, ok := r[id]
	if !ok || key.organization != organization {
		return Erased
	}
	plain, ok := openValue(key.aead, organization, id, body)
	if !ok {
		return Erased
	}
	return plain
}
