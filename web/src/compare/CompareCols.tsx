/**
 * CompareCols fixes the column widths of the compare tables (a key column,
 * then one equal column per run), so the value columns of the runs,
 * parameters, metrics and tags tables line up.
 */
export function CompareCols({ n }: { n: number }) {
  return <colgroup><col class="key-col" />{Array.from({ length: n }, (_, i) => <col key={i} />)}</colgroup>;
}
