// Package erasure is the application side of the right to be forgotten:
// the eraseDataSubject command, for admins, on the crypto-shredding of
// package datasubject. It erases a subject's key and the erasure event in
// one transaction, then waits (bounded) until every read model that shows
// personal data has scrubbed it, and raises the read cache's floor of the
// erased entities, so that no read made after the answer shows the data.
package erasure

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-es/chronicle/internal/account"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/auth"
	"github.com/chronicle-es/chronicle/internal/caller"
	"github.com/chronicle-es/chronicle/internal/datasubject"
	"github.com/chronicle-es/chronicle/internal/eventstore"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/module"
	"github.com/chronicle-es/chronicle/internal/projection"
	"github.com/chronicle-es/chronicle/internal/readcache"
)

// Errors of Erase (each an *apperr.Error; match with errors.Is).
var (
	// ErrForbidden: the caller's token lacks the admin role.
	ErrForbidden = apperr.New(apperr.Forbidden, "erasing a data subject needs the admin role (a token whose roles claim lists admin)")
	// ErrInvalidInput: not exactly one of email and owner, or a malformed
	// one.
	ErrInvalidInput = apperr.New(apperr.BadUserInput, "invalid input")
	// ErrUnauthenticated: no organization.
	ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "erasing a data subject needs an authenticated caller")
)

// Service erases data subjects.
type Service struct {
	Keys  *datasubject.Keys
	Store datasubject.Appender
	// Waiter and Wait bound the wait for Projections (read-your-writes);
	// Wait 0: no wait.
	Waiter projection.Waiter
	Wait   time.Duration
	// Projections are the names of the read models that scrub erased
	// data (the projection.PersonalReader ones).
	Projections []string
	// Cache, when set, has its floor raised for the erased entities.
	Cache  *readcache.Cache
	Logger *slog.Logger
}

// Subject names whom to erase: exactly one field set.
type Subject struct {
	Email string
	Owner string
}

// Result is what an erasure did.
type Result struct {
	// Erased is false when nothing of the subject was stored.
	Erased bool
	// Entities counts the streams that held its data.
	Entities int
	// Position is the erasure event's (0 when nothing was erased).
	Position int64
	// UpToDate is true once every projection has scrubbed the data.
	UpToDate bool
}

// Erase erases the subject in the caller's organization (ctx's caller).
//
// Errors: ErrUnauthenticated, ErrForbidden, ErrInvalidInput; the store's.
// Once the erasure has committed, Erase returns its Result, never an error
// (a wait that runs out says UpToDate false).
func (s *Service) Erase(ctx context.Context, subject Subject) (Result, error) {
	c := caller.From(ctx)
	if c.Organization == "" {
		return Result{}, ErrUnauthenticated
	}
	if !c.HasRole(auth.RoleAdmin) {
		return Result{}, ErrForbidden
	}
	id, err := subjectOf(subject)
	if err != nil {
		return Result{}, err
	}
	erasure, err := s.Keys.Erase(ctx, s.Store, id, eventstore.Metadata{
		Actor: c.Actor, CorrelationID: c.CorrelationID, Tenant: c.Organization,
	})
	if err != nil {
		return Result{}, err
	}
	if !erasure.Erased {
		return Result{UpToDate: true}, nil
	}
	res := Result{Erased: true, Entities: len(erasure.Streams), Position: erasure.Result.LastPosition, UpToDate: true}
	cp := erasure.Result.Checkpoint()
	keys := make([]string, len(erasure.Streams))
	for i, st := range erasure.Streams {
		keys[i] = st.ID.String()
	}
	for _, name := range s.Projections {
		ok := false
		if s.Wait > 0 {
			if ok, err = projection.AwaitBounded(ctx, s.Waiter, name, cp, s.Wait); err != nil {
				s.logger().WarnContext(ctx, "erasure: wait for a projection", "projection", name, "err", err)
			}
		}
		res.UpToDate = res.UpToDate && ok
		if err := s.Cache.Invalidate(ctx, name, cp, keys...); err != nil {
			s.logger().ErrorContext(ctx, "read cache invalidation after an erasure failed", "projection", name, "err", err)
		}
	}
	return res, nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// subjectOf returns the datasubject identifier of exactly one of email and
// owner.
func subjectOf(s Subject) (string, error) {
	switch {
	case s.Email != "" && s.Owner != "":
		return "", fmt.Errorf("%w: give one of email and owner, not both", ErrInvalidInput)
	case s.Email != "":
		email, err := input.Email(ErrInvalidInput, "email", s.Email)
		if err != nil {
			return "", err
		}
		return datasubject.Email(email), nil
	case s.Owner != "":
		owner, err := input.Field(ErrInvalidInput, input.Text, "owner", s.Owner, account.MaxOwnerLength)
		if err != nil {
			return "", err
		}
		return datasubject.Owner(owner), nil
	}
	return "", fmt.Errorf("%w: give the data subject's email or owner", ErrInvalidInput)
}

// Module registers the erasure service; registered lists the projections
// registered before it, of which it waits for the PersonalReader ones. It
// has no projection of its own: each read model scrubs its rows.
func Module(registered []projection.Projection) module.Module[*Service] {
	var names []string
	for _, p := range registered {
		if _, ok := p.(projection.PersonalReader); ok {
			names = append(names, p.Name())
		}
	}
	return module.Module[*Service]{
		Name: "erasure",
		New: func(d module.Deps) *Service {
			return &Service{
				Keys: d.Keys, Store: d.Store, Waiter: d.Commands.Waiter, Wait: d.Commands.Wait,
				Projections: names, Cache: d.Cache, Logger: d.Logger,
			}
		},
	}
}
