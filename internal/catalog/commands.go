package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/chronicle-es/chronicle/internal/aggregate"
	"github.com/chronicle-es/chronicle/internal/apperr"
	"github.com/chronicle-es/chronicle/internal/command"
	"github.com/chronicle-es/chronicle/internal/input"
	"github.com/chronicle-es/chronicle/internal/money"
)

// Limits on free-text fields, in characters (code points) after trimming.
const (
	MaxTitleLength       = 200
	MaxDescriptionLength = 5000
	MaxReasonLength      = 500
)

// Command names, stored with idempotency keys.
const (
	cmdAdd         = "AddProduct"
	cmdUpdate      = "UpdateProduct"
	cmdChangePrice = "ChangeProductPrice"
	cmdDiscontinue = "DiscontinueProduct"
)

var (
	_ command.Command[Product] = AddProduct{}
	_ command.Keyed            = AddProduct{}
	_ command.Command[Product] = UpdateProduct{}
	_ command.Command[Product] = ChangeProductPrice{}
	_ command.Command[Product] = DiscontinueProduct{}
)

var (
	// skuShape: letters, digits, '.', '_' and '-', starting with a letter
	// or digit, at most 64; compared in upper case.
	skuShape = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,63}$`)
	// categoryShape: a lower-case slug such as "books" or "board-games".
	categoryShape = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,49}$`)
)

// NormalizeSKU returns the canonical form of a SKU: trimmed and upper case,
// 1..64 letters, digits, '.', '_' or '-', starting with a letter or digit.
// "bk-001" and " BK-001" are one SKU. Errors: ErrInvalidInput.
func NormalizeSKU(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if !skuShape.MatchString(t) {
		return "", fmt.Errorf("%w: sku %s must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
			ErrInvalidInput, apperr.Quote(s))
	}
	return t, nil
}

// NormalizeCategory returns the canonical form of a category: trimmed and
// lower case, a slug of 1..50 letters, digits and '-' ("books").
// Errors: ErrInvalidInput.
func NormalizeCategory(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if !categoryShape.MatchString(t) {
		return "", fmt.Errorf("%w: category %s must be 1 to 50 letters, digits or '-', e.g. \"books\"", ErrInvalidInput, apperr.Quote(s))
	}
	return t, nil
}

// AddProduct adds a product with SKU to the caller's organization's
// catalog. Price is a decimal string ("12.50") in Currency ("EUR");
// Attributes a JSON object of the category's fields (see
// normalizeAttributes). The product's id is derived from the organization
// and the SKU (ProductID).
type AddProduct struct {
	SKU         string
	Title       string
	Category    string
	Description string
	Price       string
	Currency    string
	Attributes  json.RawMessage
}

// Name implements command.Command.
func (AddProduct) Name() string { return cmdAdd }

// Target implements command.Command (unused: the command is Keyed).
func (AddProduct) Target() string { return "" }

// Key implements command.Keyed: the canonical SKU.
func (c AddProduct) Key() (string, error) { return NormalizeSKU(c.SKU) }

// Decide returns one ProductAdded. Errors: ErrSKUTaken when the product
// (the SKU's stream) exists; ErrInvalidInput for a malformed SKU, title
// (1..200 characters), category, description (at most 5,000) or
// attributes, or a price that is not positive; money.ErrUnknownCurrency,
// money.ErrMalformedAmount.
func (c AddProduct) Decide(p Product, env command.Env) ([]aggregate.Event, error) {
	sku, err := NormalizeSKU(c.SKU)
	if err != nil {
		return nil, err
	}
	if p.Status != "" {
		return nil, fmt.Errorf("%w: %s", ErrSKUTaken, sku)
	}
	if env.Organization == "" {
		return nil, fmt.Errorf("%w: a product must belong to an organization", ErrInvalidInput)
	}
	title, description, err := texts(c.Title, c.Description)
	if err != nil {
		return nil, err
	}
	category, err := NormalizeCategory(c.Category)
	if err != nil {
		return nil, err
	}
	attrs, err := normalizeAttributes(category, c.Attributes)
	if err != nil {
		return nil, err
	}
	cur, price, err := parsePrice(c.Price, c.Currency)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{ProductAdded{
		ProductID: env.StreamID.String(), Organization: env.Organization, SKU: sku, Title: title, Category: category,
		Description: description, Price: price, Currency: cur.Code, Attributes: attrs, AddedBy: env.Actor,
	}}, nil
}

// UpdateProduct changes product ID's title, description and attributes;
// nil fields stay as they are. Attributes, when given, replace the old ones
// whole and are checked against the product's category.
type UpdateProduct struct {
	ID          string
	Title       *string
	Description *string
	Attributes  json.RawMessage
}

// Name implements command.Command.
func (UpdateProduct) Name() string { return cmdUpdate }

// Target implements command.Command.
func (c UpdateProduct) Target() string { return c.ID }

// Decide returns one ProductUpdated with the new values of all three
// fields. Errors: ErrProductNotFound; ErrInvalidStateTransition for a
// discontinued product; ErrInvalidInput for malformed values or an update
// that changes nothing.
func (c UpdateProduct) Decide(p Product, env command.Env) ([]aggregate.Event, error) {
	if err := changeable(p, env, "update"); err != nil {
		return nil, err
	}
	title, description := p.Title, p.Description
	if c.Title != nil {
		title = *c.Title
	}
	if c.Description != nil {
		description = *c.Description
	}
	title, description, err := texts(title, description)
	if err != nil {
		return nil, err
	}
	attrs := p.Attributes
	if c.Attributes != nil {
		if attrs, err = normalizeAttributes(p.Category, c.Attributes); err != nil {
			return nil, err
		}
	}
	if title == p.Title && description == p.Description && bytes.Equal(attrs, p.Attributes) {
		return nil, fmt.Errorf("%w: the update changes nothing", ErrInvalidInput)
	}
	return []aggregate.Event{ProductUpdated{ProductID: p.ID, Title: title, Description: description, Attributes: attrs, UpdatedBy: env.Actor}}, nil
}

// ChangeProductPrice sets product ID's price to Price ("12.50") in
// Currency ("EUR").
type ChangeProductPrice struct {
	ID       string
	Price    string
	Currency string
}

// Name implements command.Command.
func (ChangeProductPrice) Name() string { return cmdChangePrice }

// Target implements command.Command.
func (c ChangeProductPrice) Target() string { return c.ID }

// Decide returns one ProductPriceChanged. Errors: ErrProductNotFound;
// ErrInvalidStateTransition for a discontinued product; ErrInvalidInput for
// a price that is not positive or is the current one; money's errors.
func (c ChangeProductPrice) Decide(p Product, env command.Env) ([]aggregate.Event, error) {
	if err := changeable(p, env, "change the price of"); err != nil {
		return nil, err
	}
	cur, price, err := parsePrice(c.Price, c.Currency)
	if err != nil {
		return nil, err
	}
	if price == p.Price && cur.Code == p.Currency.Code {
		return nil, fmt.Errorf("%w: the price is already %s", ErrInvalidInput, money.Format(price, cur))
	}
	return []aggregate.Event{ProductPriceChanged{ProductID: p.ID, Price: price, Currency: cur.Code, ChangedBy: env.Actor}}, nil
}

// DiscontinueProduct stops selling product ID, for Reason (optional, at
// most 500 characters). Its SKU stays taken.
type DiscontinueProduct struct {
	ID     string
	Reason string
}

// Name implements command.Command.
func (DiscontinueProduct) Name() string { return cmdDiscontinue }

// Target implements command.Command.
func (c DiscontinueProduct) Target() string { return c.ID }

// Decide returns one ProductDiscontinued. Errors: ErrProductNotFound;
// ErrInvalidStateTransition when it is discontinued already;
// ErrInvalidInput for a reason that is too long.
func (c DiscontinueProduct) Decide(p Product, env command.Env) ([]aggregate.Event, error) {
	if err := changeable(p, env, "discontinue"); err != nil {
		return nil, err
	}
	reason, err := input.Field(ErrInvalidInput, input.OptionalText, "reason", c.Reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	return []aggregate.Event{ProductDiscontinued{ProductID: p.ID, Reason: reason, DiscontinuedBy: env.Actor}}, nil
}

// changeable checks that the product exists in the caller's organization
// and is not discontinued.
func changeable(p Product, env command.Env, action string) error {
	if p.Status == "" || p.Organization != env.Organization {
		return fmt.Errorf("%w: %s", ErrProductNotFound, env.StreamID)
	}
	if p.Status == StatusDiscontinued {
		return fmt.Errorf("%w: cannot %s a discontinued product", ErrInvalidStateTransition, action)
	}
	return nil
}

// texts checks a title (required) and a description (optional).
func texts(title, description string) (string, string, error) {
	t, err := input.Field(ErrInvalidInput, input.Text, "title", title, MaxTitleLength)
	if err != nil {
		return "", "", err
	}
	d, err := input.Field(ErrInvalidInput, input.OptionalText, "description", description, MaxDescriptionLength)
	if err != nil {
		return "", "", err
	}
	return t, d, nil
}

func parsePrice(price, currency string) (money.Currency, int64, error) {
	cur, err := money.LookupCurrency(currency)
	if err != nil {
		return money.Currency{}, 0, err
	}
	amount, err := money.ParsePositive(price, cur, ErrInvalidInput)
	if err != nil {
		return money.Currency{}, 0, err
	}
	return cur, amount, nil
}
