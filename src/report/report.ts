import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { check } from '../errors.js';
import { renderSvg, type Row } from './chart.js';
import { type Cell, escapeHtml, htmlTable, markdownTable, markdownToHtml } from './markup.js';
import { toCsv } from '../io/csv.js';
import { writeFileAtomic } from '../io/files.js';

/** A report folder being written; add sections in order, then `finish()`. */
export interface Report {
  /** Absolute path of the report folder. */
  readonly dir: string;
  /** A section heading; level 2 by default (the title is level 1). */
  heading(text: string, level?: 2 | 3 | 4): void;
  /** A paragraph of Markdown (inline code, bold, italics, links, `-` lists). */
  paragraph(markdown: string): void;
  /** A table shown in the report and saved as `name.csv` (default `table-N`). */
  table(columns: string[], rows: Cell[][], name?: string): void;
  /**
   * A chart: writes `name.svg`, `name.vl.json` (the spec), `name.csv` and `name.json` (the numbers)
   * and shows the SVG with its numbers. `data` defaults to the spec's inline values.
   */
  chart(name: string, spec: TopLevelSpec, data?: Row[]): Promise<void>;
  /** Saves `value` as `name.json` and links it from the report. */
  json(name: string, value: unknown): void;
  /** Waits for charts still rendering, then writes `report.md` and `report.html`. */
  finish(): Promise<void>;
}

/** A chart's numbers appear as a table in the report only up to this many rows; beyond, as links. */
const INLINE_ROWS = 20;

const CSS = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.2rem .5rem}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5rem 0}figcaption{font-size:.9rem}code{background:#f3f3f3;padding:0 .2rem}`;

interface Section {
  md: string;
  html: string;
}

function fileName(name: string): string {
  check(/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name), `report item name ${JSON.stringify(name)} may hold only letters, digits, '.', '_' and '-'`);
  return name;
}

/** Columns of a list of rows: every field that occurs, in order of first appearance. */
function columnsOf(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

function link(file: string, text: string): Section {
  return { md: `[${text}](${file})`, html: `<a href="${escapeHtml(file)}">${escapeHtml(text)}</a>` };
}

/** Starts a report in `dir` (created if missing; files of the same names are overwritten). */
export function createReport(dir: string, title: string): Report {
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  // Charts render asynchronously; their slot is reserved at call time so the order stays as written.
  const sections: Section[] = [];
  const pending: Promise<void>[] = [];
  let tables = 0;
  const write = (name: string, content: string) => writeFileAtomic(path.join(root, name), content);

  return {
    dir: root,

    heading(text, level = 2) {
      sections.push({ md: `${'#'.repeat(level)} ${text}`, html: `<h${level}>${escapeHtml(text)}</h${level}>` });
    },

    paragraph(markdown) {
      sections.push({ md: markdown.trim(), html: markdownToHtml(markdown) });
    },

    table(columns, rows, name) {
      const csv = `${fileName(name ?? `table-${++tables}`)}.csv`;
      write(csv, toCsv(columns, rows));
      const l = link(csv, 'CSV');
      sections.push({
        md: `${markdownTable(columns, rows)}\n\n${l.md}`,
        html: `${htmlTable(columns, rows)}\n<p>${l.html}</p>`,
      });
    },

    chart(name, spec, data) {
      const base = fileName(name);
      const inline = (spec as { data?: { values?: unknown } }).data?.values;
      const rows = data ?? (Array.isArray(inline) ? (inline as Row[]) : undefined);
      check(rows !== undefined, `chart ${name}: pass its data, or a spec with inline data values`);
      const index = sections.push({ md: '', html: '' }) - 1;
      const job = renderSvg(spec).then((svg) => {
        const columns = columnsOf(rows);
        const cells = rows.map((r) => columns.map((c) => r[c]));
        write(`${base}.svg`, svg);
        write(`${base}.vl.json`, `${JSON.stringify(spec, null, 2)}\n`);
        write(`${base}.csv`, toCsv(columns, cells));
        write(`${base}.json`, `${JSON.stringify(rows, null, 2)}\n`);
        const links = [link(`${base}.csv`, 'data (CSV)'), link(`${base}.json`, 'data (JSON)'), link(`${base}.vl.json`, 'Vega-Lite spec')];
        const small = rows.length <= INLINE_ROWS;
        sections[index] = {
          md: [`![${name}](${base}.svg)`, links.map((l) => l.md).join(' · '), ...(small ? [markdownTable(columns, cells)] : [])].join('\n\n'),
          html: `<figure>\n${svg}\n<figcaption>${links.map((l) => l.html).join(' · ')}</figcaption>\n` +
            (small ? `<details><summary>numbers</summary>\n${htmlTable(columns, cells)}\n</details>\n` : '') +
            '</figure>',
        };
      });
      pending.push(job);
      return job;
    },

    json(name, value) {
      const file = `${fileName(name)}.json`;
      write(file, `${JSON.stringify(value, null, 2)}\n`);
      const l = link(file, `${name} (JSON)`);
      sections.push({ md: l.md, html: `<p>${l.html}</p>` });
    },

    async finish() {
      await Promise.all(pending);
      write('report.md', `${[`# ${title}`, ...sections.map((s) => s.md)].join('\n\n')}\n`);
      const body = [`<h1>${escapeHtml(title)}</h1>`, ...sections.map((s) => s.html)].join('\n');
      write(
        'report.html',
        `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n` +
          `<style>\n${CSS}\n</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`,
      );
    },
  };
}
