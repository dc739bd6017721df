package graph

import (
	"reflect"
	"strings"
	"testing"
)

// TestEveryPageIsWeighed walks the schema: every field that takes `first` is
// a connection, and must have a complexity function that weighs it by the
// page size (weighPages), or the complexity limit would count a page of 100
// like a single object. (payments(first:) had none: GRAPHQL_COMPLEXITY_LIMIT
// refused accounts(first: 100) but answered payments(first: 100).)
func TestEveryPageIsWeighed(t *testing.T) {
	var root ComplexityRoot
	weighPages(&root)
	schema := NewExecutableSchema(Config{}).Schema()
	checked := 0
	for _, typ := range schema.Types {
		if strings.HasPrefix(typ.Name, "__") {
			continue
		}
		for _, f := range typ.Fields {
			if f.Arguments.ForName("first") == nil {
				continue
			}
			checked++
			byType := reflect.ValueOf(root).FieldByName(typ.Name)
			if !byType.IsValid() {
				t.Errorf("%s.%s takes first, but ComplexityRoot has no %s", typ.Name, f.Name, typ.Name)
				continue
			}
			fn := byType.FieldByName(strings.ToUpper(f.Name[:1]) + f.Name[1:])
			if !fn.IsValid() || fn.IsNil() {
				t.Errorf("%s.%s takes first but has no page complexity: add it to weighPages", typ.Name, f.Name)
			}
		}
	}
	if checked < 4 {
		t.Fatalf("found %d fields taking first; the walk is broken", checked)
	}
}
