/**
 * Writing CSV text (RFC 4180) with full-precision numbers, for loading into other tools: the shape
 * lab's manifest, the CLI's code tables, the report's tables. Here, below the data and report layers,
 * so that both may write CSV; reading numeric CSV is src/data/csv.ts.
 */

/** A table cell as reports and the CLI print it; null and undefined print as empty. */
export type Cell = string | number | boolean | null | undefined;

/** RFC 4180 CSV with full-precision numbers, for loading into other tools. */
export function toCsv(columns: string[], rows: Cell[][]): string {
  const field = (cell: Cell): string => {
    if (cell === null || cell === undefined) return '';
    const s = String(cell);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[columns, ...rows].map((r) => columns.map((_, j) => field(r[j])).join(',')).join('\r\n')}\r\n`;
}
