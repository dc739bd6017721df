package database

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// One scans the one row of a read of one entity (e.g. a read model's row by
// id and organization). Errors: notFound wrapped with id when there is no
// row; the read's other errors wrapped with what and id ("read product
// <id>: ...").
func One[V any](row pgx.Row, scan func(pgx.Row) (V, error), notFound error, what string, id any) (V, error) {
	v, err := scan(row)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		var zero V
		return zero, fmt.Errorf("%w: %v", notFound, id)
	case err != nil:
		var zero V
		return zero, fmt.Errorf("read %s %v: %w", what, id, err)
	}
	return v, nil
}

// All scans every row of a query, given as the results of Query (rows,
// err), with scan. Errors: the query's and the scan's, wrapped with what
// ("list products: ...").
func All[V any](rows pgx.Rows, err error, scan func(pgx.Row) (V, error), what string) ([]V, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (V, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
