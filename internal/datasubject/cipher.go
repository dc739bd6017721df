// Package datasubject implements the right to be forgotten by
// crypto-shredding: the personal fields of an event (a customer's name and
// e-mail address, an account owner's name) are stored encrypted with a key
// of their data subject, and erasing the subject deletes the key. The events
// are never rewritten; what was sealed with a deleted key reads as Erased
// everywhere it is opened (read models, rebuilds, history, time travel).
//
// Keys. Each (organization, subject) has one random 256-bit data key, stored
// in data_subject_keys wrapped with AES-256-GCM under a key derived from the
// master key (CHRONICLE_MASTER_KEY). The subject is not stored in the clear:
// rows are found by a keyed hash of it (HMAC-SHA-256), and sealed values
// name their key by its random id. Losing the master key loses every sealed
// value: operators must back it up (docs/architecture.md).
//
// Sealed values are strings "enc:v1:<key id>:<base64url(nonce‖ciphertext)>",
// encrypted with AES-256-GCM (a fresh 96-bit nonce each, NIST SP 800-38D)
// with the organization and key id as additional data, so a value copied to
// another organization or key does not open. The write side's aggregates
// and snapshots keep sealed values as they are; read sides open them.
package datasubject

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// MasterKeySize is the master key's length in bytes (AES-256).
const MasterKeySize = 32

// Erased is what an opened value reads after its subject was erased.
const Erased = "[erased]"

// sealedPrefix starts every sealed value.
const sealedPrefix = "enc:v1:"

// ErrMasterKey is returned by ParseMasterKey for a key that is not 32 bytes
// in base64 or hex.
var ErrMasterKey = errors.New("master key must be 32 bytes, base64 or hex encoded")

// MasterKey derives the keys of one installation from its master key: the
// key that wraps data keys, and the key of the subject index. Derivation is
// HMAC-SHA-256(master, label), so that one secret never serves two uses.
type MasterKey struct {
	wrap  cipher.AEAD
	index []byte
}

// ParseMasterKey parses CHRONICLE_MASTER_KEY: 32 bytes, standard or URL
// base64 (with or without padding) or hex. Errors: ErrMasterKey.
func ParseMasterKey(s string) (*MasterKey, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == MasterKeySize {
			raw = b
			break
		}
	}
	if raw == nil {
		return nil, ErrMasterKey
	}
	return NewMasterKey(raw)
}

// GenerateMasterKey returns a random master key and its base64 form (for
// development: its sealed values are lost with it).
func GenerateMasterKey() (*MasterKey, string, error) {
	raw := make([]byte, MasterKeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("generate master key: %w", err)
	}
	k, err := NewMasterKey(raw)
	return k, base64.StdEncoding.EncodeToString(raw), err
}

// NewMasterKey returns the MasterKey of raw (MasterKeySize bytes).
func NewMasterKey(raw []byte) (*MasterKey, error) {
	if len(raw) != MasterKeySize {
		return nil, ErrMasterKey
	}
	wrap, err := newAEAD(derive(raw, "chronicle data key wrapping v1"))
	if err != nil {
		return nil, err
	}
	return &MasterKey{wrap: wrap, index: derive(raw, "chronicle data subject index v1")}, nil
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// subjectIndex is the keyed hash that finds a subject's key row.
func (k *MasterKey) subjectIndex(organization, subject string) []byte {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(organization))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return m.Sum(nil)
}

// keyAAD binds a wrapped key or a sealed value to its organization and key.
func keyAAD(organization string, keyID uuid.UUID) []byte {
	return append(append([]byte(organization), 0), keyID[:]...)
}

// wrapKey encrypts a data key for storage: nonce ‖ ciphertext.
func (k *MasterKey) wrapKey(organization string, keyID uuid.UUID, dataKey []byte) []byte {
	nonce := make([]byte, k.wrap.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return k.wrap.Seal(nonce, nonce, dataKey, keyAAD(organization, keyID))
}

// unwrapKey opens a stored data key. Errors: a key wrapped by another
// master key, or for another organization or id.
func (k *MasterKey) unwrapKey(organization string, keyID uuid.UUID, wrapped []byte) (cipher.AEAD, error) {
	n := k.wrap.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("data key %s: wrapped key too short", keyID)
	}
	raw, err := k.wrap.Open(nil, wrapped[:n], wrapped[n:], keyAAD(organization, keyID))
	if err != nil {
		return nil, fmt.Errorf("data key %s does not open with this master key: %w", keyID, err)
	}
	return newAEAD(raw)
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// sealedKeyID returns the key id a sealed value names.
func sealedKeyID(s string) (uuid.UUID, string, bool) {
	rest, ok := strings.CutPrefix(s, sealedPrefix)
	if !ok {
		return uuid.Nil, "", false
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return uuid.Nil, "", false
	}
	keyID, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, "", false
	}
	return keyID, body, true
}

// sealValue encrypts plain under key.
func sealValue(key cipher.AEAD, organization string, keyID uuid.UUID, plain string) string {
	nonce := make([]byte, key.NonceSize())
	_, _ = rand.Read(nonce)
	ct := key.Seal(nonce, nonce, []byte(plain), keyAAD(organization, keyID))
	return sealedPrefix + keyID.String() + ":" + base64.RawURLEncoding.EncodeToString(ct)
}

// openValue decrypts a sealed value's body under key; ok is false for a
// body that does not open (tampered, or sealed for another organization).
func openValue(key cipher.AEAD, organization string, keyID uuid.UUID, body string) (string, bool) {
	ct, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(ct) < key.NonceSize() {
		return "", false
	}
	n := key.NonceSize()
	plain, err := key.Open(nil, ct[:n], ct[n:], keyAAD(organization, keyID))
	if err != nil {
		return "", false
	}
	return string(plain), true
}
