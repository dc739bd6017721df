/**
 * The head row of a list table: one column header per name, and, with
 * `select`, a last column for the row's select button (named for screen
 * readers only).
 */
export function TableHead({ columns, select = false }: { columns: string[]; select?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
        {select && (
          <th scope="col">
            <span className="sr-only">Select</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
