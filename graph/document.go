package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// Codes of the refusals of documentLimit.
const (
	// CodeTokenLimitExceeded refuses a document of more than
	// DocumentLimits.Tokens lexical tokens.
	CodeTokenLimitExceeded = "TOKEN_LIMIT_EXCEEDED"
	// CodeDocumentTooLarge refuses a document whose shape would make
	// validation costly: too many fragments, too many selections once its
	// fragments are expanded, or one response name selected too often in
	// one selection set.
	CodeDocumentTooLarge = "DOCUMENT_TOO_LARGE"
)

// DocumentLimits bound what a GraphQL document may hold before it is
// validated. gqlparser's validation is quadratic in places (the
// OverlappingFieldsCanBeMerged rule compares every pair of fields that
// share a response name, and every pair of fragment spreads of a selection
// set, and validates every fragment definition on its own): a 66 KB
// document that repeats one field 6,000 times costs seconds of CPU. These
// checks are linear in the document's size and refuse such documents
// before the validator sees them. A zero field keeps its default.
type DocumentLimits struct {
	// Tokens is the most lexical tokens (names, punctuation, values) a
	// document may have; default 10,000. The parser is linear in it.
	Tokens int
	// Fragments is the most fragment definitions; default 200.
	Fragments int
	// Selections is the most field selections of the document once every
	// fragment spread is replaced by its fragment, summed over the
	// operations and the fragment definitions (each is validated); default
	// 10,000. A chain of fragments that spread each other grows
	// quadratically in it.
	Selections int
	// Comparisons is the most pairs of fields that land on one response
	// path (the aliases or names from the root), fragments expanded, summed
	// over the paths; default 5,000. The validator compares every such pair
	// (about 1.5 µs each).
	Comparisons int
}

// Defaults of DocumentLimits.
const (
	DefaultMaxTokens      = 10000
	DefaultMaxFragments   = 200
	DefaultMaxSelections  = 10000
	DefaultMaxComparisons = 5000
)

func (l DocumentLimits) withDefaults() DocumentLimits {
	if l.Tokens <= 0 {
		l.Tokens = DefaultMaxTokens
	}
	if l.Fragments <= 0 {
		l.Fragments = DefaultMaxFragments
	}
	if l.Selections <= 0 {
		l.Selections = DefaultMaxSelections
	}
	if l.Comparisons <= 0 {
		l.Comparisons = DefaultMaxComparisons
	}
	return l
}

// documentLimit applies DocumentLimits before gqlgen parses and validates
// a query. It runs as an OperationParameterMutator, after automatic
// persisted queries have filled in the query. Queries it accepted are
// remembered (by their text), so that a repeated query is parsed once.
type documentLimit struct {
	limits   DocumentLimits
	accepted *lru.LRU[struct{}]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimit{}

func newDocumentLimit(l DocumentLimits) documentLimit {
	return documentLimit{limits: l.withDefaults(), accepted: lru.New[struct{}](1000)}
}

func (documentLimit) ExtensionName() string                   { return "DocumentLimit" }
func (documentLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimit) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	if _, ok := d.accepted.Get(ctx, params.Query); ok {
		return nil
	}
	if err := d.limits.check(params.Query); err != nil {
		return err
	}
	d.accepted.Add(ctx, params.Query, struct{}{})
	return nil
}

// check refuses query when it is beyond the limits; a query that does not
// parse is left to gqlgen, which reports the syntax error.
func (l DocumentLimits) check(query string) *gqlerror.Error {
	src := &ast.Source{Input: query}
	lex := lexer.New(src)
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil {
			return nil // a syntax error: gqlgen reports it
		}
		if tok.Kind == lexer.EOF {
			break
		}
		if n >= l.Tokens {
			return refuseDocument(CodeTokenLimitExceeded, "the document has more than %d tokens", l.Tokens)
		}
	}
	doc, err := parser.ParseQuery(src)
	if err != nil {
		return nil
	}
	if len(doc.Fragments) > l.Fragments {
		return refuseDocument(CodeDocumentTooLarge, "the document has %d fragments, more than the limit of %d", len(doc.Fragments), l.Fragments)
	}
	c := docCounter{fragments: map[string]*fragmentCount{}, limit: l.Selections, pairLimit: l.Comparisons}
	for _, f := range doc.Fragments {
		c.fragments[f.Name] = &fragmentCount{def: f}
	}
	total := 0
	for _, op := range doc.Operations {
		total += c.size(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		total += c.fragmentSize(f.Name)
	}
	if total > l.Selections {
		return refuseDocument(CodeDocumentTooLarge, "the document has more than %d field selections with its fragments expanded", l.Selections)
	}
	// Within the selection bound, merging each definition's fields costs at
	// most the total counted above.
	sets := make([]ast.SelectionSet, 0, len(doc.Operations)+len(doc.Fragments))
	for _, op := range doc.Operations {
		sets = append(sets, op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		sets = append(sets, f.SelectionSet)
	}
	for _, set := range sets {
		if c.mergedPaths([]ast.SelectionSet{set}) > l.Comparisons {
			return refuseDocument(CodeDocumentTooLarge, "the document puts more than %d pairs of fields on one response path "+
				"(repeated fields or fragments); validating it would be too costly", l.Comparisons)
		}
	}
	return nil
}

func refuseDocument(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	return err
}

// docCounter counts a document's selections with fragments expanded,
// memoised per fragment and saturating past limit (so that a chain of
// fragments costs linear time to measure).
type docCounter struct {
	fragments map[string]*fragmentCount
	limit     int
	// pairs counts the pairs of fields on one response path, up to about
	// pairLimit.
	pairs, pairLimit int
}

type fragmentCount struct {
	def *ast.FragmentDefinition
	// size is the expanded selection count once known; visiting guards
	// against cycles (the validator refuses them).
	size     int
	known    bool
	visiting bool
}

func (c *docCounter) fragmentSize(name string) int {
	f := c.fragments[name]
	if f == nil || f.visiting {
		return 0
	}
	if !f.known {
		f.visiting = true
		f.size = c.size(f.def.SelectionSet)
		f.visiting = false
		f.known = true
	}
	return f.size
}

// size is the number of fields in set and below, fragments expanded,
// at most limit+1.
func (c *docCounter) size(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n += 1 + c.size(s.SelectionSet)
		case *ast.InlineFragment:
			n += c.size(s.SelectionSet)
		case *ast.FragmentSpread:
			n += c.fragmentSize(s.Name)
		}
		if n > c.limit {
			return c.limit + 1
		}
	}
	return n
}

// mergedPaths adds to the count of compared pairs those of the response
// paths in sets, and returns it (saturating past the limit). The validator
// compares every pair of fields that land on one response path: two fields
// "a" whose subselections each hold two fields "b" put four fields on
// "a.b", so nested repetition multiplies (20 × 20 × 20 nested fields took
// 50 s). Fields are merged as the validator merges them: fields of one
// response name in a selection set (with its inline fragments and fragment
// spreads) pool their subselections. Within the Selections bound this costs
// linear time: every field of the expanded document is visited once.
func (c *docCounter) mergedPaths(sets []ast.SelectionSet) int {
	counts := map[string]int{}
	children := map[string][]ast.SelectionSet{}
	var order []string
	var collect func(ast.SelectionSet, int)
	collect = func(set ast.SelectionSet, depth int) {
		if depth > len(c.fragments)+1 {
			return // a fragment cycle: the validator refuses it
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				c.pairs += counts[name] // pairs with the fields before it
				counts[name]++
				if len(s.SelectionSet) > 0 {
					if children[name] == nil {
						order = append(order, name)
					}
					children[name] = append(children[name], s.SelectionSet)
				}
			case *ast.InlineFragment:
				collect(s.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				if f := c.fragments[s.Name]; f != nil {
					collect(f.def.SelectionSet, depth+1)
				}
			}
		}
	}
	for _, set := range sets {
		collect(set, 0)
	}
	for _, name := range order {
		if c.pairs > c.pairLimit {
			break
		}
		c.mergedPaths(children[name])
	}
	return c.pairs
}

// String describes the limits (for logs).
func (l DocumentLimits) String() string {
	return fmt.Sprintf("tokens=%d fragments=%d selections=%d comparisons=%d", l.Tokens, l.Fragments, l.Selections, l.Comparisons)
}
