package projection

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The scratch tables of a rebuild live in a schema of their own, named after
// the projection, so that a crashed rebuild's leftovers are found and
// dropped by the next one.

var plainName = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// scratchSchema returns the quoted name of projection name's scratch schema.
func scratchSchema(name string) string {
	if !plainName.MatchString(name) {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:8])
	}
	return quoteIdent("chronicle_rebuild_" + name)
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// tableSet is a projection's read-model tables as found in schema public,
// and what a rebuild must add to their scratch copies after the replay.
type tableSet struct {
	names []string
	// foreignKeys recreate the live tables' foreign keys on the scratch
	// copies: "ALTER TABLE <scratch>.t ADD CONSTRAINT name <definition>
	// NOT VALID", where the definition names the referenced table
	// unqualified, so that search_path resolves a table of the set to its
	// scratch copy and any other to public.
	foreignKeys []constraintDDL
	// deferred are the indexes and index-backed constraints set aside while
	// a Bulk fills the scratch tables (see createScratch).
	deferred []deferredIndex
}

type constraintDDL struct{ table, name, definition string }

// deferredIndex is an index of a scratch table, dropped before the replay
// and built after it: create, when not empty, is its CREATE INDEX
// statement; constraint, when not empty, is the ALTER TABLE that then
// makes it a constraint again (or builds the constraint with its index).
type deferredIndex struct{ create, constraint string }

// liveList returns the live tables, qualified, for LOCK and DROP.
func (ts *tableSet) liveList() string {
	q := make([]string, len(ts.names))
	for i, n := range ts.names {
		q[i] = "public." + quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// setOIDs selects the oids of the set's tables ($1 is the names).
const setOIDs = `(SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY($1::text[]))`

// inspectTables checks that names are plain tables of schema public that a
// rebuild can replace (see Rebuildable) and reads their foreign keys.
// Errors wrap ErrNotRebuildable when the tables break the contract.
func inspectTables(ctx context.Context, pool *pgxpool.Pool, names []string) (*tableSet, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: Tables is empty", ErrNotRebuildable)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] || strings.Contains(n, ".") {
			return nil, fmt.Errorf("%w: table names must be unique and unqualified, got %q", ErrNotRebuildable, names)
		}
		seen[n] = true
	}
	var problems []string
	rows, err := pool.Query(ctx, `
		SELECT format('table public.%I does not exist', n) FROM unnest($1::text[]) AS n
		WHERE NOT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = n)
		UNION ALL
		SELECT format('%s is not a plain table', oid::regclass) FROM pg_class
		WHERE oid IN `+setOIDs+` AND (relkind <> 'r' OR relispartition)
		UNION ALL
		SELECT format('%s has row-level security', oid::regclass) FROM pg_class
		WHERE oid IN `+setOIDs+` AND relrowsecurity
		UNION ALL
		SELECT format('column %s.%I takes its default from a sequence (serial; use an identity column)', a.attrelid::regclass, a.attname)
		FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		WHERE d.adrelid IN `+setOIDs+` AND pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%'
		UNION ALL
		SELECT format('trigger %I on %s', tgname, tgrelid::regclass) FROM pg_trigger
		WHERE tgrelid IN `+setOIDs+` AND NOT tgisinternal
		UNION ALL
		SELECT format('foreign key %I of %s references %s', conname, conrelid::regclass, confrelid::regclass) FROM pg_constraint
		WHERE contype = 'f' AND confrelid IN `+setOIDs+` AND conrelid NOT IN `+setOIDs+`
		UNION ALL
		SELECT DISTINCT format('%s depends on %s', r.ev_class::regclass, d.refobjid::regclass)
		FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid IN `+setOIDs+` AND r.ev_class NOT IN `+setOIDs, names)
	if err != nil {
		return nil, fmt.Errorf("inspect tables: %w", err)
	}
	if problems, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("inspect tables: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotRebuildable, strings.Join(problems, "; "))
	}

	ts := &tableSet{names: names}
	// With search_path = public, pg_get_constraintdef names a referenced
	// table of public unqualified.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path = public`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
			FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
			WHERE con.contype = 'f' AND con.conrelid IN `+setOIDs+` ORDER BY 1, 2`, names)
		if err != nil {
			return err
		}
		ts.foreignKeys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (constraintDDL, error) {
			var c constraintDDL
			err := r.Scan(&c.table, &c.name, &c.definition)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read foreign keys: %w", err)
	}
	return ts, nil
}

// indexInfo is one index of a table of the set, in schema public or the
// scratch schema.
type indexInfo struct {
	table, name string
	// signature is what makes two indexes the same index: uniqueness,
	// columns, operator classes, collations, options, expressions and
	// predicate.
	signature string
	// constraint is the name of the constraint the index backs (primary
	// key, unique or exclusion), or "".
	constraint string
	definition string // pg_get_indexdef
}

func listIndexes(ctx context.Context, q pgx.Tx, schema string, tables []string) ([]indexInfo, error) {
	rows, err := q.Query(ctx, `
		SELECT c.relname::text, i.relname::text,
			concat_ws('|', x.indisunique, x.indisprimary, x.indnullsnotdistinct, x.indkey::text, x.indclass::text,
				x.indcollation::text, x.indoption::text, pg_get_expr(x.indexprs, x.indrelid), pg_get_expr(x.indpred, x.indrelid)),
			coalesce(con.conname::text, ''), pg_get_indexdef(x.indexrelid)
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class c ON c.oid = x.indrelid
		LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
		WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY($2::text[])
		ORDER BY 1, 2`, schema, tables)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexInfo, error) {
		var ix indexInfo
		err := r.Scan(&ix.table, &ix.name, &ix.signature, &ix.constraint, &ix.definition)
		return ix, err
	})
}

// createScratch (re)creates the scratch schema with a copy of every table:
// columns, defaults, identity, CHECK and NOT NULL constraints, indexes and
// index-backed constraints, comments, statistics targets (LIKE ... INCLUDING
// ALL). Indexes and constraints are renamed to their live names (LIKE picks
// its own), so that the swapped-in tables look exactly like the live ones
// to later migrations. With deferIndexes they are then dropped and recorded,
// to be built by finishScratch after the replay.
func (ts *tableSet) createScratch(ctx context.Context, pool *pgxpool.Pool, scratch string, deferIndexes bool) error {
	schemaName := strings.Trim(scratch, `"`)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+scratch+` CASCADE; CREATE SCHEMA `+scratch); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		for _, t := range ts.names {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s.%s (LIKE public.%[2]s INCLUDING ALL)`, scratch, quoteIdent(t))); err != nil {
				return fmt.Errorf("create scratch %s: %w", t, err)
			}
		}
		live, err := listIndexes(ctx, tx, "public", ts.names)
		if err != nil {
			return fmt.Errorf("list live indexes: %w", err)
		}
		copies, err := listIndexes(ctx, tx, schemaName, ts.names)
		if err != nil {
			return fmt.Errorf("list scratch indexes: %w", err)
		}
		if err := renameLikeLive(ctx, tx, scratch, live, copies); err != nil {
			return err
		}
		if !deferIndexes {
			return nil
		}
		if copies, err = listIndexes(ctx, tx, schemaName, ts.names); err != nil {
			return fmt.Errorf("list scratch indexes: %w", err)
		}
		for _, ix := range copies {
			var def string
			drop := `DROP INDEX ` + scratch + `.` + quoteIdent(ix.name)
			if ix.constraint != "" {
				err := tx.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
					WHERE conname = $1 AND conrelid = ($2 || '.' || quote_ident($3))::regclass`, ix.constraint, scratch, ix.table).Scan(&def)
				if err != nil {
					return fmt.Errorf("read constraint %s: %w", ix.constraint, err)
				}
				drop = `ALTER TABLE ` + scratch + `.` + quoteIdent(ix.table) + ` DROP CONSTRAINT ` + quoteIdent(ix.constraint)
			}
			if _, err := tx.Exec(ctx, drop); err != nil {
				return fmt.Errorf("set aside index %s: %w", ix.name, err)
			}
			ts.deferred = append(ts.deferred, deferIndex(scratch, ix, def))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create scratch tables: %w", err)
	}
	return nil
}

// deferIndex returns how to rebuild the scratch index ix, whose constraint
// (if any) has definition def. Primary keys and plain unique constraints
// adopt an index built concurrently (USING INDEX); other constraints
// (exclusion, deferrable, with options) are built by ADD CONSTRAINT.
func deferIndex(scratch string, ix indexInfo, def string) deferredIndex {
	if ix.constraint == "" {
		return deferredIndex{create: ix.definition}
	}
	table := scratch + `.` + quoteIdent(ix.table)
	for _, kind := range []string{"PRIMARY KEY", "UNIQUE"} {
		if strings.HasPrefix(def, kind+" (") && !strings.Contains(def, "DEFERRABLE") && !strings.Contains(def, " INCLUDE ") &&
			!strings.Contains(def, " WITH (") && !strings.Contains(def, " USING INDEX TABLESPACE ") {
			return deferredIndex{
				create:     ix.definition,
				constraint: fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s`, table, quoteIdent(ix.constraint), kind, quoteIdent(ix.name)),
			}
		}
	}
	return deferredIndex{constraint: fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, table, quoteIdent(ix.constraint), def)}
}

// renameLikeLive gives each scratch index (and the constraint it backs) the
// name of the live index it copies, pairing them by table and signature.
// Names go through temporary ones, since a name LIKE chose may be another
// index's live name.
func renameLikeLive(ctx context.Context, tx pgx.Tx, scratch string, live, copies []indexInfo) error {
	byKey := make(map[string][]indexInfo) // table|signature -> live indexes
	for _, ix := range live {
		k := ix.table + "|" + ix.signature
		byKey[k] = append(byKey[k], ix)
	}
	type rename struct {
		cp  indexInfo
		to  indexInfo
		tmp string
	}
	var renames []rename
	for i, cp := range copies {
		k := cp.table + "|" + cp.signature
		if len(byKey[k]) == 0 {
			return fmt.Errorf("scratch index %s of %s matches no live index", cp.name, cp.table)
		}
		renames = append(renames, rename{cp: cp, to: byKey[k][0], tmp: fmt.Sprintf("chronicle_rebuild_index_%d", i)})
		byKey[k] = byKey[k][1:]
	}
	if len(renames) != len(live) {
		return fmt.Errorf("scratch tables have %d indexes, live ones %d", len(renames), len(live))
	}
	exec := func(ix indexInfo, from, to string) error {
		sql := `ALTER INDEX ` + scratch + `.` + quoteIdent(from) + ` RENAME TO ` + quoteIdent(to)
		if ix.constraint != "" { // renames the index too
			sql = `ALTER TABLE ` + scratch + `.` + quoteIdent(ix.table) + ` RENAME CONSTRAINT ` + quoteIdent(from) + ` TO ` + quoteIdent(to)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("rename scratch index %s to %s: %w", from, to, err)
		}
		return nil
	}
	for _, r := range renames {
		if r.cp.constraint != "" && r.cp.constraint != r.cp.name {
			return fmt.Errorf("constraint %s of %s is backed by index %s of another name", r.cp.constraint, r.cp.table, r.cp.name)
		}
		if err := exec(r.cp, r.cp.name, r.tmp); err != nil {
			return err
		}
	}
	for _, r := range renames {
		if err := exec(r.cp, r.tmp, r.to.name); err != nil {
			return err
		}
	}
	return nil
}

// finishScratch builds the set-aside indexes and constraints and the foreign
// keys on the filled scratch tables, and analyzes them. Each step is a
// short transaction of its own: indexes are built CONCURRENTLY and foreign
// keys added NOT VALID then validated, because any transaction holding a
// transaction id for long would hold back every projection's horizon (see
// eventstore.ReadCommitted), the live ones included.
func (ts *tableSet) finishScratch(ctx context.Context, pool *pgxpool.Pool, scratch string) error {
	for _, d := range ts.deferred {
		if d.create != "" {
			create := strings.Replace(d.create, " INDEX ", " INDEX CONCURRENTLY ", 1)
			if _, err := pool.Exec(ctx, create); err != nil {
				return fmt.Errorf("build index: %s: %w", create, err)
			}
		}
		if d.constraint == "" {
			continue
		}
		if _, err := pool.Exec(ctx, d.constraint); err != nil {
			return fmt.Errorf("add constraint: %s: %w", d.constraint, err)
		}
	}
	for _, fk := range ts.foreignKeys {
		table := scratch + `.` + quoteIdent(fk.table)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+scratch+`, public`); err != nil {
				return err
			}
			def := strings.TrimSuffix(fk.definition, " NOT VALID")
			_, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD CONSTRAINT `+quoteIdent(fk.name)+` `+def+` NOT VALID`)
			return err
		})
		if err != nil {
			return fmt.Errorf("add foreign key %s: %w", fk.name, err)
		}
		if _, err := pool.Exec(ctx, `ALTER TABLE `+table+` VALIDATE CONSTRAINT `+quoteIdent(fk.name)); err != nil {
			return fmt.Errorf("validate foreign key %s: %w", fk.name, err)
		}
	}
	for _, t := range ts.names {
		if _, err := pool.Exec(ctx, `ANALYZE `+scratch+`.`+quoteIdent(t)); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nil
}
