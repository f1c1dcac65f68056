/**
 * The Python literals of NPY headers, read as Python's ast.literal_eval reads them (numpy.load parses
 * the header with it): strings with any prefix, escape and implicit concatenation, integers in any
 * base, comments, blank lines, newlines inside brackets; not \N{name} escapes, since Unicode's names
 * are not known here. Values that NPY headers never hold (floats, complex, bytes, None, sets…) are
 * kept as just their Python type, so that errors can name them.
 */
// CPython's tokenizer refuses a bracket inside 200 others (MAXLEVEL).
const MAX_NESTING = 200;

/**
 * A header value: str, int, bool, tuple, list, a dict with str keys, or any other literal (float,
 * complex, bytes, None, Ellipsis, set, a dict with other keys) as just its Python type.
 */
export type PyValue = string | bigint | boolean | PyTuple | PyValue[] | Map<string, PyValue> | PyOther;
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyOther {
  constructor(readonly type: string) {}
}

/** A value as an error message shows it: Python's notation, strings in JSON's quotes. */
export function pyRepr(value: PyValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof PyTuple) return `(${value.items.map(pyRepr).join(', ')}${value.items.length === 1 ? ',' : ''})`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return `<${value.type}>`;
}

/** A token of a header: its offset, kind and text, and for a string or number its value. */
interface Token {
  at: number;
  kind: 'op' | 'name' | 'string' | 'number';
  text: string;
  value?: PyValue;
  bytes?: boolean;
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const FLOAT = String.raw`${DIGITS}\.(?:${DIGITS})?(?:[eE][+-]?${DIGITS})?|\.${DIGITS}(?:[eE][+-]?${DIGITS})?|${DIGITS}[eE][+-]?${DIGITS}`;
// The tokens after whitespace, comments and newlines: a string's prefix and opening quote, an
// imaginary number, a float, an integer, a name, punctuation.
const LEXEME = new RegExp(
  [
    String.raw`([rR][bB]|[bB][rR]|[rRbBuU])?('''|"""|'|")`,
    `((?:${FLOAT}|${DIGITS})[jJ])`,
    `(${FLOAT})`,
    String.raw`(0[xX](?:_?[\da-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?\d)*)`,
    String.raw`([A-Za-z_]\w*)`,
    String.raw`(\.\.\.|[{}()[\]:,+-])`,
  ].join('|'),
  'y',
);
// A line outside brackets: its indentation, a comment, the newline.
const LINE = /([ \t\f]*)(#[^\n]*)?(\n)?/y;
const ESCAPES = new Map(Object.entries({ '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }));

/**
 * The string literal whose body starts at `start` in `text` after `prefix` and `quote`: its value
 * (a str, or bytes as PyOther) and where it ends. A backslash escapes any character, a newline too.
 */
function readString(text: string, start: number, prefix: string, quote: string): { value: PyValue; bytes: boolean; end: number } {
  let i = start;
  while (!text.startsWith(quote, i)) {
    if (i >= text.length || (text[i] === '\n' && quote.length === 1)) throw new Error(`unterminated string at offset ${start}`);
    i += text[i] === '\\' ? 2 : 1;
  }
  const body = text.slice(start, i);
  const [raw, bytes] = [/r/i.test(prefix), /b/i.test(prefix)];
  if (bytes && /[\u0080-\uffff]/.test(body)) throw new Error(`a bytes literal with a non-ASCII character at offset ${start}`);
  // Bytes keep \u, \U and \N as text; their value does not matter here, only that they are valid.
  const value = raw ? body : body.replace(/\\(x[\da-fA-F]{2}|u[\da-fA-F]{4}|U[\da-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (whole, e: string) => {
    if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    if (e[0] === 'x' || (!bytes && (e[0] === 'u' || e[0] === 'U'))) {
      if (e.length === 1) throw new Error(`a truncated \\${e} escape at offset ${start}`);
      return String.fromCodePoint(parseInt(e.slice(1), 16));
    }
    if (e === 'N' && !bytes) throw new Error(`a \\N{...} escape, not read here, at offset ${start}`);
    return ESCAPES.get(e) ?? whole;
  });
  return { value: bytes ? new PyOther('bytes') : value, bytes, end: i + quote.length };
}

/**
 * Splits a header into tokens as Python's tokenizer splits one expression: blank and comment lines
 * around it, comments and newlines inside brackets, backslash continuations, no indented line. With
 * `dropLongs` (versions 1.0 and 2.0) it drops a name L after a number, and the whitespace after the
 * last newline, as numpy's _filter_header (tokenize, then untokenize) does; otherwise such an L is
 * an Error.
 */
export function tokenize(header: string, dropLongs: boolean): { tokens: Token[]; droppedLongs: boolean } {
  // untokenize loses the whitespace after the last \n (not \r: tokenize reads lines up to \n) and
  // writes the first line's indentation as spaces; literal_eval strips leading spaces and tabs;
  // Python's tokenizer reads \r\n and \r as \n.
  const untokenized = dropLongs ? header.replace(/\n[ \t\f]*$/, '\n').replace(/^[ \t\f]+/, '') : header;
  const text = untokenized.replace(/^[ \t]+/, '').replace(/\r\n?/g, '\n');
  const tokens: Token[] = [];
  let [i, depth, lineStart, afterNumber, droppedLongs] = [0, 0, true, false, false];
  const fail = (problem: string): never => {
    throw new Error(`${problem} at offset ${i}`);
  };
  while (i < text.length) {
    if (lineStart) {
      // A line outside brackets: blank, a comment, or the start of the literal, not indented
      // (Python measures indentation from the last form feed).
      LINE.lastIndex = i;
      const [line, indent, comment, newline] = LINE.exec(text) as RegExpExecArray;
      const indented = indent.length > 0 && !indent.endsWith('\f');
      if (newline === undefined && i + line.length === text.length && (comment !== undefined || !indented)) break;
      if (newline !== undefined) i += line.length;
      else if (indented) fail('unexpected indent');
      else if (tokens.length > 0) fail('text after the end of the literal');
      else [i, lineStart] = [i + indent.length, false];
      continue;
    }
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\f') i++;
    else if (c === '#') [i, afterNumber] = [text.includes('\n', i) ? text.indexOf('\n', i) : text.length, false];
    else if (c === '\n') [i, afterNumber, lineStart] = [i + 1, false, depth === 0];
    else if (c === '\\') {
      if (text[i + 1] !== '\n' || i + 2 === text.length) fail('a backslash that does not continue a line');
      i += 2;
    } else {
      LEXEME.lastIndex = i;
      const m = LEXEME.exec(text) ?? fail(`unexpected ${JSON.stringify(c)}`);
      const [lexeme, prefix, quote, imaginary, , int, name, op] = m;
      // _filter_header keeps "after a number" past a dropped L, so 6L L drops both.
      if (afterNumber && name === 'L') {
        if (!dropLongs) fail('a Python 2 long (L after a number), which numpy reads in versions 1.0 and 2.0 only');
        [i, droppedLongs] = [i + 1, true];
        continue;
      }
      const token: Token = { at: i, kind: 'op', text: lexeme };
      if (quote !== undefined) {
        const string = readString(text, i + lexeme.length, prefix ?? '', quote);
        Object.assign(token, { kind: 'string', value: string.value, bytes: string.bytes });
        i = string.end;
      } else {
        i += lexeme.length;
        if (name !== undefined) token.kind = 'name';
        else if (op === undefined) {
          token.kind = 'number';
          token.value = int !== undefined ? BigInt(int.replace(/_/g, '')) : new PyOther(imaginary !== undefined ? 'complex' : 'float');
        } else if ('([{'.includes(op)) {
          if (depth === MAX_NESTING) fail('too many nested parentheses');
          depth++;
        } else if (')]}'.includes(op) && depth-- === 0) fail(`unmatched "${op}"`);
      }
      afterNumber = token.kind === 'number';
      tokens.push(token);
    }
  }
  return { tokens, droppedLongs };
}

const CONSTANTS = new Map<string, PyValue>([['True', true], ['False', false], ['None', new PyOther('NoneType')]]);
const isComplex = (v: PyValue) => v instanceof PyOther && v.type === 'complex';
const isNumber = (v: PyValue) => typeof v === 'bigint' || isComplex(v) || (v instanceof PyOther && v.type === 'float');
const unhashable = (v: PyValue): boolean =>
  v instanceof PyTuple ? v.items.some(unhashable) : Array.isArray(v) || v instanceof Map || (v instanceof PyOther && (v.type === 'set' || v.type === 'dict'));

/**
 * The value of one expression as ast.literal_eval evaluates it: constants, tuples, lists, dicts,
 * sets, set(), a sign before a number, and real ± imaginary; anything else is an Error.
 */
export function parsePyLiteral(tokens: Token[]): PyValue {
  let k = 0;
  const fail = (problem: string): never => {
    throw new Error(`${problem} ${k < tokens.length ? `at offset ${tokens[k].at}` : 'at the end'}`);
  };
  const isOp = (text: string) => tokens[k]?.kind === 'op' && tokens[k].text === text;
  const take = (text: string) => {
    if (!isOp(text)) fail(`expected "${text}"`);
    k++;
  };
  // Each value comes with its syntactic form, since literal_eval takes a sign only before a number
  // constant, and a sum only of a real constant or signed number and an imaginary constant.
  type Parsed = { value: PyValue; form: 'constant' | 'signed' | 'other' };
  const expression = (): Parsed => {
    let left = factor();
    while (isOp('+') || isOp('-')) {
      k++;
      const right = factor();
      const real = left.form !== 'other' && isNumber(left.value) && !isComplex(left.value);
      if (!real || right.form !== 'constant' || !isComplex(right.value)) fail('a sum that is not real ± imaginary');
      left = { value: new PyOther('complex'), form: 'other' };
    }
    return left;
  };
  const factor = (): Parsed => {
    if (!isOp('+') && !isOp('-')) return atom();
    const minus = tokens[k++].text === '-';
    const { value, form } = factor();
    if (form !== 'constant' || !isNumber(value)) fail('a sign before something other than a number');
    return { value: minus && typeof value === 'bigint' ? -value : value, form: 'signed' };
  };
  // Items up to `close`, separated by commas, with an optional trailing comma.
  const sequence = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    while (!isOp(close)) {
      items.push(expression().value);
      if (!isOp(close)) take(',');
    }
    k++;
    return items;
  };
  // After "{": a dict, or a set when the first item has no colon.
  const braces = (): PyValue => {
    const items = isOp('}') ? [] : [expression().value];
    if (items.length === 1 && !isOp(':')) {
      if (!isOp('}')) take(',');
      items.push(...sequence('}'));
      if (items.some(unhashable)) fail('an unhashable set element');
      return new PyOther('set');
    }
    const entries: [PyValue, PyValue][] = [];
    for (let key: PyValue | undefined = items[0]; key !== undefined; key = isOp('}') ? undefined : expression().value) {
      take(':');
      entries.push([key, expression().value]);
      if (!isOp('}')) take(',');
    }
    k++;
    if (entries.some(([key]) => unhashable(key))) fail('an unhashable dict key');
    return entries.every(([key]) => typeof key === 'string') ? new Map(entries as [string, PyValue][]) : new PyOther('dict');
  };
  // After "(": (), a grouped value, or a tuple.
  const parentheses = (): Parsed => {
    const first = isOp(')') ? undefined : expression();
    if (first !== undefined && isOp(')')) {
      k++;
      return first;
    }
    if (first !== undefined) take(',');
    return { value: new PyTuple(first === undefined ? sequence(')') : [first.value, ...sequence(')')]), form: 'other' };
  };
  const atom = (): Parsed => {
    const token = tokens[k] ?? fail('unexpected end');
    if (token.kind === 'name' && !CONSTANTS.has(token.text) && token.text !== 'set') fail(`the name ${token.text}`);
    if (token.kind === 'op' && !['(', '[', '{', '...'].includes(token.text)) fail(`unexpected "${token.text}"`);
    k++;
    if (token.kind === 'string') {
      let value = token.value as PyValue;
      for (; tokens[k]?.kind === 'string'; k++) {
        if (tokens[k].bytes !== token.bytes) fail('bytes and str literals side by side');
        if (typeof value === 'string') value += tokens[k].value as string;
      }
      return { value, form: 'constant' };
    }
    if (token.kind === 'number') return { value: token.value as PyValue, form: 'constant' };
    if (token.text === 'set') {
      take('(');
      take(')');
      return { value: new PyOther('set'), form: 'other' };
    }
    if (token.kind === 'name') return { value: CONSTANTS.get(token.text) as PyValue, form: 'constant' };
    if (token.text === '...') return { value: new PyOther('ellipsis'), form: 'constant' };
    if (token.text === '[') return { value: sequence(']'), form: 'other' };
    return token.text === '{' ? { value: braces(), form: 'other' } : parentheses();
  };
  const result = expression().value;
  if (k < tokens.length) fail('text after the end of the literal');
  return result;
}
