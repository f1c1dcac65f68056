import type { Cell } from '../io/csv.js';

export type { Cell };

/**
 * A number for people to read: integers in full, others to 4 significant digits, so a table of
 * losses stays narrow. Raw files (CSV, JSON) keep full precision instead.
 */
export function formatNumber(x: number): string {
  if (Number.isInteger(x) || !Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** The text shown for a cell in Markdown, HTML and plain-text tables; an undefined number (NaN) is a dash, its reason told beside the table. */
export function formatCell(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number' && Number.isNaN(cell)) return '—';
  return typeof cell === 'number' ? formatNumber(cell) : String(cell);
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes text that must appear literally inside a Markdown table cell. */
function escapeMarkdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A GitHub-flavoured Markdown table; numeric columns are right-aligned. */
export function markdownTable(columns: string[], rows: Cell[][]): string {
  const numeric = columns.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number' || r[j] == null));
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdownCell).join(' | ')} |`;
  return [
    line(columns),
    `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => line(columns.map((_, j) => formatCell(r[j])))),
  ].join('\n');
}

/** An HTML table with every cell escaped. */
export function htmlTable(columns: string[], rows: Cell[][]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = columns.map((_, j) => {
        const cls = typeof r[j] === 'number' ? ' class="num"' : '';
        return `<td${cls}>${escapeHtml(formatCell(r[j]))}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Inline Markdown (code, bold, italics, links) of already-escaped text to HTML. */
function inlineHtml(escaped: string): string {
  return escaped
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g,
      (_m, text: string, href: string) => /^(javascript|data|vbscript):/i.test(href) ? text : `<a href="${href}">${text}</a>`);
}

/**
 * The Markdown that report paragraphs use, as HTML: paragraphs, `-` lists and inline code, bold,
 * italics and links. Everything is escaped first, so the text can never inject markup.
 */
export function markdownToHtml(markdown: string): string {
  return markdown
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => /^\s*[-*] /.test(l))) {
        const items = lines.map((l) => `<li>${inlineHtml(escapeHtml(l.replace(/^\s*[-*] /, '')))}</li>`);
        return `<ul>\n${items.join('\n')}\n</ul>`;
      }
      return `<p>${inlineHtml(escapeHtml(block))}</p>`;
    })
    .join('\n');
}
