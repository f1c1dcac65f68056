import { type Cell, formatCell } from './markup.js';

/** Where progress goes: process.stderr, or anything with `write` (tests pass a collector). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of `progress`. */
export interface ProgressOptions {
  total: number;
  label: string;
  stream?: ProgressStream;
  /** JSON lines even on a terminal, for tools that parse the output. */
  json?: boolean;
}

/** Handle returned by `progress`. */
export interface Progress {
  /** Records `n` more units done; `info` (e.g. the current loss) is shown and kept until replaced. */
  tick(n?: number, info?: Record<string, unknown>): void;
  /** Writes the final state; later calls do nothing. */
  done(): void;
}

/** A terminal redraws at most this often; more would cost more than the work it reports. */
const TTY_INTERVAL_MS = 100;
/** JSON lines go to logs, where one a second is plenty. */
const JSON_INTERVAL_MS = 1000;

/** Seconds as `m:ss` or `h:mm:ss`. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function infoText(info: Record<string, unknown>): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatCell(v) : String(v)}`)
    .join(' ');
}

/**
 * Progress of long work on `stream` (stderr by default): a bar with count, percent, elapsed time
 * and ETA on a terminal, otherwise JSON lines
 * `{"event":"progress","label","done","total","elapsed","eta",...info}` (times in seconds).
 */
export function progress({ total, label, stream = process.stderr, json = false }: ProgressOptions): Progress {
  const asJson = json || !stream.isTTY;
  const start = Date.now();
  let count = 0;
  let info: Record<string, unknown> = {};
  let last = -Infinity;
  let finished = false;

  const emit = (final: boolean) => {
    const now = Date.now();
    if (!final && now - last < (asJson ? JSON_INTERVAL_MS : TTY_INTERVAL_MS)) return;
    last = now;
    const elapsed = (now - start) / 1000;
    const eta = count > 0 ? (elapsed * Math.max(total - count, 0)) / count : null;
    if (asJson) {
      const round = (x: number) => Math.round(x * 1000) / 1000;
      const core = { event: 'progress', label, done: count, total, elapsed: round(elapsed), eta: eta === null ? null : round(eta) };
      // Core fields first in each line, and never overwritten by an info key of the same name.
      stream.write(`${JSON.stringify({ ...core, ...info, ...core })}\n`);
      return;
    }
    const fraction = total > 0 ? Math.min(count / total, 1) : 1;
    const text = `${count}/${total} ${Math.floor(fraction * 100)}% ${clock(elapsed)} eta ${eta === null ? '?' : clock(eta)}`;
    const extra = infoText(info);
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - text.length - extra.length - 6));
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    // \r and erase-to-end-of-line redraw in place without scrolling the terminal.
    stream.write(`\r${label} [${bar}] ${text}${extra ? ` ${extra}` : ''}\x1b[K${final ? '\n' : ''}`);
  };

  return {
    tick(n = 1, newInfo) {
      if (finished) return;
      count += n;
      if (newInfo) info = { ...info, ...newInfo };
      emit(false);
    },
    done() {
      if (finished) return;
      finished = true;
      emit(true);
    },
  };
}

/** An aligned plain-text table for the terminal: numbers right-aligned, text left-aligned. */
export function formatTable(columns: string[], rows: Cell[][]): string {
  const text = rows.map((r) => columns.map((_, j) => formatCell(r[j])));
  const right = columns.map((_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number' || r[j] == null));
  const widths = columns.map((c, j) => Math.max(c.length, ...text.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (right[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}
