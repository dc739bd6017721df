package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-es/chronicle/internal/database"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/live"
	"github.com/chronicle-es/chronicle/internal/page"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// View is a product as the catalog projection holds it. Price is in minor
// units of Currency; Attributes is the JSON object as PostgreSQL's jsonb
// writes it.
type View struct {
	ID           uuid.UUID
	Organization string
	SKU          string
	Title        string
	Category     string
	Description  string
	Price        int64
	Currency     string
	Attributes   json.RawMessage
	Status       Status
	Version      int64
	// AddedTx and AddedPosition are where ProductAdded is in the
	// projection's read order: products are listed NEWEST and followed by
	// productAdded in that order.
	AddedTx       uint64
	AddedPosition int64
	AddedAt       time.Time
	UpdatedAt     time.Time
	// Stock is the product's stock as the stock projection holds it, read
	// with the product (zero when it has none, and in the catalog
	// projection's own rows).
	Stock Stock
}

// Stock is a product's stock in units, as the stock projection's table
// holds it; the zero value is a product never restocked (Version 0).
type Stock struct {
	OnHand, Reserved, Version int64
	UpdatedAt                 time.Time
}

// Available is what can still be reserved: OnHand - Reserved.
func (s Stock) Available() int64 { return s.OnHand - s.Reserved }

const viewColumns = `id, organization, sku, title, category, description, price, currency, attributes,
	status, version, added_tx, added_position, added_at, updated_at`

func scanView(row pgx.Row) (View, error) {
	var (
		v  View
		tx int64
	)
	err := row.Scan(&v.ID, &v.Organization, &v.SKU, &v.Title, &v.Category, &v.Description, &v.Price, &v.Currency,
		&v.Attributes, &v.Status, &v.Version, &tx, &v.AddedPosition, &v.AddedAt, &v.UpdatedAt)
	v.AddedTx = uint64(tx)
	v.AddedAt, v.UpdatedAt = v.AddedAt.UTC(), v.UpdatedAt.UTC()
	return v, err
}

// readColumns are what the read model's queries select: the product's row
// (p) and its stock (s, joined with stockJoin), so that a page of products
// with their stock is one query.
var readColumns = prefixed("p.", viewColumns) + `, s.on_hand, s.reserved, s.version, s.updated_at`

// stockJoin joins the stock projection's row of each product (unique on
// organization and product id).
const stockJoin = ` LEFT JOIN stock s ON s.organization = p.organization AND s.product_id = p.id`

// scanRead scans readColumns.
func scanRead(row pgx.Row) (View, error) {
	var (
		v                         View
		tx                        int64
		onHand, reserved, version *int64
		stockAt                   *time.Time
	)
	err := row.Scan(&v.ID, &v.Organization, &v.SKU, &v.Title, &v.Category, &v.Description, &v.Price, &v.Currency,
		&v.Attributes, &v.Status, &v.Version, &tx, &v.AddedPosition, &v.AddedAt, &v.UpdatedAt,
		&onHand, &reserved, &version, &stockAt)
	v.AddedTx = uint64(tx)
	v.AddedAt, v.UpdatedAt = v.AddedAt.UTC(), v.UpdatedAt.UTC()
	if version != nil {
		v.Stock = Stock{OnHand: *onHand, Reserved: *reserved, Version: *version, UpdatedAt: stockAt.UTC()}
	}
	return v, err
}

// ReadModel answers catalog queries from the catalog projection's table,
// joined with the stock projection's for each product's stock (and the
// inStock filter).
type ReadModel struct {
	pool *pgxpool.Pool
	hub  *live.Hub
}

// NewReadModel returns a ReadModel on pool; hub rings its live feeds.
func NewReadModel(pool *pgxpool.Pool, hub *live.Hub) *ReadModel {
	return &ReadModel{pool: pool, hub: hub}
}

// Get returns organization's product id, discontinued or not. Errors:
// ErrProductNotFound, also for another organization's product.
func (m *ReadModel) Get(ctx context.Context, organization string, id uuid.UUID) (View, error) {
	return database.One(m.pool.QueryRow(ctx, `SELECT `+readColumns+` FROM products p`+stockJoin+`
		WHERE p.id = $1 AND p.organization = $2`, id, organization), scanRead, ErrProductNotFound, "product", id)
}

// Order is how List sorts products.
type Order string

// List orders.
const (
	// OrderNewest: most recently added first.
	OrderNewest Order = "NEWEST"
	// OrderPrice: cheapest first (by amount in minor units, whatever the
	// currency), then by id.
	OrderPrice Order = "PRICE"
	// OrderTitle: by title (the database's collation), then by id.
	OrderTitle Order = "TITLE"
)

// MaxSearchLength bounds a search text, in characters.
const MaxSearchLength = 200

// ListFilter selects active products of one organization; zero fields do
// not filter.
type ListFilter struct {
	Organization string
	// Category, when not empty, keeps only that category's products.
	Category string
	// Search, when not empty, is full-text search over title and
	// description, in PostgreSQL's web-search syntax ("dune -messiah",
	// "\"left hand\" or darkness"), English stemming.
	Search string
	// InStock, when not nil, keeps only products with (true) or without
	// (false) units available.
	InStock *bool
	Order   Order
	First   *int
	After   string
}

// orderSQL is one order's keyset: the ORDER BY, the comparison of the
// cursor's two values with the row's, and the row's cursor key.
type orderSQL struct {
	orderBy, after string
	cast           string
	key            func(View) (string, string)
}

var orders = map[Order]orderSQL{
	OrderNewest: {
		orderBy: `p.added_tx DESC, p.added_position DESC`,
		after:   `(p.added_tx, p.added_position) < ($%d::bigint, $%d::bigint)`,
		key: func(v View) (string, string) {
			return strconv.FormatUint(v.AddedTx, 10), strconv.FormatInt(v.AddedPosition, 10)
		},
	},
	OrderPrice: {
		orderBy: `p.price, p.id`,
		after:   `(p.price, p.id) > ($%d::bigint, $%d::uuid)`,
		key:     func(v View) (string, string) { return strconv.FormatInt(v.Price, 10), v.ID.String() },
	},
	OrderTitle: {
		orderBy: `p.title, p.id`,
		after:   `(p.title, p.id) > ($%d::text, $%d::uuid)`,
		key:     func(v View) (string, string) { return v.Title, v.ID.String() },
	},
}

// List returns one page of active products. Errors: page.ErrInvalidPage
// for a bad first/after (a cursor of another order included);
// ErrInvalidInput for a malformed category or search text, or an unknown
// order.
func (m *ReadModel) List(ctx context.Context, f ListFilter) (page.Page[View], error) {
	size, err := page.Size(f.First)
	if err != nil {
		return page.Page[View]{}, err
	}
	if f.Order == "" {
		f.Order = OrderNewest
	}
	o, ok := orders[f.Order]
	if !ok {
		return page.Page[View]{}, fmt.Errorf("%w: unknown order %q", ErrInvalidInput, f.Order)
	}
	var (
		where = []string{`p.organization = $1`, `p.status = 'ACTIVE'`}
		args  = []any{f.Organization}
		arg   = func(v any) int { args = append(args, v); return len(args) }
	)
	if f.Category != "" {
		c, err := NormalizeCategory(f.Category)
		if err != nil {
			return page.Page[View]{}, err
		}
		where = append(where, fmt.Sprintf(`p.category = $%d`, arg(c)))
	}
	if strings.TrimSpace(f.Search) != "" {
		if err := input.Filter("search", f.Search, MaxSearchLength); err != nil {
			return page.Page[View]{}, fmt.Errorf("%w: %s", ErrInvalidInput, input.Message(err))
		}
		where = append(where, fmt.Sprintf(`p.search @@ websearch_to_tsquery('english', $%d)`, arg(f.Search)))
	}
	if f.InStock != nil {
		where = append(where, fmt.Sprintf(`(coalesce(s.on_hand - s.reserved, 0) > 0) = $%d`, arg(*f.InStock)))
	}
	cursorKind := "products " + string(f.Order)
	if key, err := page.Decode(cursorKind, f.After); err != nil {
		return page.Page[View]{}, err
	} else if key != "" {
		a, b, ok := strings.Cut(key, " ")
		if !ok || !validCursorPart(f.Order, a, b) {
			return page.Page[View]{}, fmt.Errorf("%w: malformed cursor %q", page.ErrInvalidPage, f.After)
		}
		if f.Order == OrderTitle { // "<id> <title>": the title, which may hold spaces, comes last
			a, b = b, a
		}
		where = append(where, fmt.Sprintf(o.after, arg(a), arg(b)))
	}
	sql := `SELECT ` + readColumns + ` FROM products p` + stockJoin + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + o.orderBy + fmt.Sprintf(` LIMIT $%d`, arg(size+1))
	rows, err := m.pool.Query(ctx, sql, args...)
	views, err := database.All(rows, err, scanRead, "list products")
	if err != nil {
		return page.Page[View]{}, err
	}
	return page.Make(views, size, func(v View) string {
		a, b := o.key(v)
		if f.Order == OrderTitle {
			return page.Encode(cursorKind, b+" "+a) // id first, then the title
		}
		return page.Encode(cursorKind, a+" "+b)
	}), nil
}

// validCursorPart checks a decoded cursor's two values (for TITLE, the id
// and the title).
func validCursorPart(o Order, a, b string) bool {
	switch o {
	case OrderNewest:
		_, err1 := strconv.ParseUint(a, 10, 63)
		_, err2 := strconv.ParseInt(b, 10, 64)
		return err1 == nil && err2 == nil
	case OrderPrice:
		_, err1 := strconv.ParseInt(a, 10, 64)
		_, err2 := uuid.Parse(b)
		return err1 == nil && err2 == nil
	default:
		_, err := uuid.Parse(a)
		return err == nil
	}
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Category is one category of an organization's catalog.
type Category struct {
	Name string
	// Products counts its active products.
	Products int
}

// Categories returns organization's categories that have active
// products, by name.
func (m *ReadModel) Categories(ctx context.Context, organization string) ([]Category, error) {
	rows, err := m.pool.Query(ctx, `SELECT category, count(*) FROM products
		WHERE organization = $1 AND status = 'ACTIVE' GROUP BY category ORDER BY category`, organization)
	return database.All(rows, err, func(r pgx.Row) (Category, error) {
		var c Category
		return c, r.Scan(&c.Name, &c.Products)
	}, "list categories")
}
