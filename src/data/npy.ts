import { InputError, warn } from '../errors.js';
import { readInputFile, writeFileAtomic } from '../io/files.js';
import { checkRaw, fromLittleEndian, littleEndianBytes, type RawDtype, type RawTensor } from '../io/raw.js';
import { widen, type NarrowType } from '../io/widen.js';

/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), read
 * the way numpy 1.24's numpy.load reads it (numpy/lib/format.py: read_array, _read_array_header,
 * _filter_header, descr_to_dtype) and written the way np.save writes it.
 *
 * Layout: the magic \x93NUMPY, the version bytes 1 0, 2 0 or 3 0, the header length (2 bytes
 * little-endian in 1.0, 4 in 2.0 and 3.0), the header (latin1 in 1.0 and 2.0, UTF-8 in 3.0), then the
 * array's bytes.
 *
 * Header: a Python literal read as ast.literal_eval reads it (strings with any prefix, escape and
 * implicit concatenation, integers in any base, comments, blank lines, newlines inside brackets;
 * not \N{name} escapes, since Unicode's names are not known here).
 * In 1.0 and 2.0 a name L after a number (Python 2's long, as in (6L, 2L)) is dropped, as numpy's
 * _filter_header drops it, with a warning. It must be a dict of exactly descr, fortran_order (True or
 * False) and shape (a tuple of integers, here also non-negative and below 2^53: numpy.load reads a
 * negative dimension only from a path, by way of np.fromfile, and rejects it from a stream), of at
 * most numpy.load's 10000 characters.
 *
 * descr: a string read as numpy.dtype reads it: an optional byte order < > = | (= and | are the host's,
 * little-endian), then a type code (? b B h H i I l L q Q p P e f d, or a character below \x18, which
 * numpy takes as a type number), a kind and size (b1, i1–i8, u1–u8, f2, f4, f8; the size as C's strtol
 * reads it) or a type name (float32, int64, bool, double, …); a one-item comma string (f4, 1f4 ()f4)
 * and a tuple (descr, 1) or (descr, ()) stand for their descr. C type names have their Linux x86-64
 * sizes (l, long, int_ and intp are int64), as in numpy there.
 *
 * Values: bool (any byte but 0 is True), int64, float32 and float64 as they are; int8–int32,
 * uint8–uint32 and uint64 widened to int64 (a uint64 of 2^63 or more is an InputError naming its
 * index), float16 to float32; big-endian data in host order; Fortran-order data in C order. Bytes
 * after the data are ignored, as numpy.load ignores them, with a warning. Complex, longdouble,
 * datetime, timedelta, string, object, void, structured and subarray dtypes are rejected. Every
 * error is an InputError whose message starts with the file name.
 *
 * Written: <f4, <f8, <i8 and |b1 in C order, byte-identical to np.save.
 */

const MAGIC = '\x93NUMPY';
const WRITTEN: Readonly<Record<RawDtype, string>> = { float32: '<f4', float64: '<f8', int64: '<i8', bool: '|b1' };
// numpy pads the header so the data starts on a 64-byte boundary, and leaves room for the first
// axis to grow to 21 digits so the file can be appended to in place; matching it byte for byte
// means files written here are identical to np.save's.
const ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
// numpy.load refuses longer headers unless allow_pickle=True, since literal_eval is slow on them.
const MAX_HEADER_CHARS = 10000;
// CPython's tokenizer refuses a bracket inside 200 others (MAXLEVEL).
const MAX_NESTING = 200;

/**
 * A header value: str, int, bool, tuple, list, a dict with str keys, or any other literal (float,
 * complex, bytes, None, Ellipsis, set, a dict with other keys) as just its Python type.
 */
type PyValue = string | bigint | boolean | PyTuple | PyValue[] | Map<string, PyValue> | PyOther;
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
class PyOther {
  constructor(readonly type: string) {}
}

/** A value as an error message shows it: Python's notation, strings in JSON's quotes. */
function pyRepr(value: PyValue): string {
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
  if (bytes && /[^\x00-\x7f]/.test(body)) throw new Error(`a bytes literal with a non-ASCII character at offset ${start}`);
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
function tokenize(header: string, dropLongs: boolean): { tokens: Token[]; droppedLongs: boolean } {
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
function parsePyLiteral(tokens: Token[]): PyValue {
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

/** The types read, by numpy's dtype.str without its byte order, and what each decodes to (a RawDtype, or widened). */
const DECODED = new Map<string, RawDtype | NarrowType>([
  ['b1', 'bool'], ['i1', 'i8'], ['i2', 'i16'], ['i4', 'i32'], ['i8', 'int64'], ['u1', 'u8'], ['u2', 'u16'], ['u4', 'u32'], ['u8', 'u64'],
  ['f2', 'f16'], ['f4', 'float32'], ['f8', 'float64'],
]);
// numpy.dtype's one-character codes (numpy/core/src/multiarray/descriptor.c, _convert_from_str) of those types.
const CODES = new Map([
  ['?', 'b1'], ['b', 'i1'], ['B', 'u1'], ['h', 'i2'], ['H', 'u2'], ['i', 'i4'], ['I', 'u4'], ['l', 'i8'], ['L', 'u8'], ['q', 'i8'], ['Q', 'u8'],
  ['p', 'i8'], ['P', 'u8'], ['e', 'f2'], ['f', 'f4'], ['d', 'f8'],
]);
// A one-character descr below \x18 is a type number; these are the codes of types 0 to 23.
const TYPE_NUMBERS = '?bBhHiIlLqQfdgFDGOSUVMme';
// numpy.sctypeDict's names of those types, looked up with no byte order.
const NAMES = new Map(
  Object.entries({
    ...{ bool: 'b1', bool_: 'b1', bool8: 'b1', byte: 'i1', int8: 'i1', ubyte: 'u1', uint8: 'u1', short: 'i2', int16: 'i2', ushort: 'u2' },
    ...{ uint16: 'u2', intc: 'i4', int32: 'i4', uintc: 'u4', uint32: 'u4', int: 'i8', int_: 'i8', int0: 'i8', intp: 'i8', long: 'i8' },
    ...{ longlong: 'i8', int64: 'i8', uint: 'u8', uint0: 'u8', uintp: 'u8', ulong: 'u8', ulonglong: 'u8', uint64: 'u8', half: 'f2' },
    ...{ float16: 'f2', single: 'f4', float32: 'f4', float: 'f8', float_: 'f8', double: 'f8', float64: 'f8' },
  }),
);
// numpy/core/_internal.py's _commastring reads each item of a comma string with this.
const COMMA_ITEM = /([<>|=]?)( *\(?[ ,0-9]*\)? *)([<>|=]?)([A-Za-z0-9.?]*(?:\[[a-zA-Z0-9,.]+\])?)/y;

/** A type read, as a key of DECODED and its byte order. */
interface NpyType {
  code: string;
  bigEndian: boolean;
}

/** A shape that numpy.dtype((type, shape)) takes as type itself: 1 or (). */
const isUnitShape = (v: PyValue) => v === 1n || (v instanceof PyTuple && v.items.length === 0);

/** The type numpy's descr_to_dtype makes of `descr`, if it is one read here. */
function typeOfDescr(descr: PyValue): NpyType | undefined {
  if (typeof descr === 'string') return typeOfString(descr);
  if (descr instanceof PyTuple && descr.items.length >= 2 && isUnitShape(descr.items[1])) return typeOfDescr(descr.items[0]);
  return undefined;
}

/** The type numpy.dtype makes of the string `s` (descriptor.c, _convert_from_str), if it is one read here. */
function typeOfString(s: string): NpyType | undefined {
  if (/^[<>|=]?\d/.test(s) || /^\(\)/.test(s) || (s.length > 3 && /^[<>|=]\(\)/.test(s)) || hasTopLevelComma(s)) return typeOfCommaString(s);
  const body = '<>=|'.includes(s[0]) ? s.slice(1) : s;
  // numpy reads the string as UTF-8 bytes, and no multi-byte character makes a type code, kind or name.
  if (body === '' || /[^\x00-\x7f]/.test(s)) return undefined;
  let code: string | undefined;
  if (body.length === 1) {
    code = CODES.get(body.charCodeAt(0) < TYPE_NUMBERS.length ? TYPE_NUMBERS[body.charCodeAt(0)] : body);
  } else {
    // A kind and a size as C's strtol reads it (whitespace and a sign first), saturated to a 64-bit
    // long, then cast to an int: f4294967300 is f4.
    const digits = /^.[\t\n\v\f\r ]*([+-]?\d+)$/s.exec(body)?.[1];
    if (digits !== undefined) {
      const [value, max] = [BigInt(digits), 2n ** 63n - 1n];
      const kindAndSize = body[0] + BigInt.asIntN(32, value > max ? max : value < -max - 1n ? -max - 1n : value);
      if (DECODED.has(kindAndSize)) code = kindAndSize;
    }
  }
  // Names are looked up as written, so a byte order before one (<float32) is not understood.
  code ??= NAMES.get(s);
  return code === undefined ? undefined : { code, bigEndian: s[0] === '>' };
}

/** Whether `s` has a comma outside square brackets (descriptor.c, _check_for_commastring). */
function hasTopLevelComma(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === ',' && depth === 0) return true;
    depth += c === '[' ? 1 : c === ']' ? -1 : 0;
  }
  return false;
}

/**
 * The type of a comma string of one item, as numpy's _commastring splits it: byte orders before
 * and after an optional repeat count, the type, then only a comma or whitespace. A repeat count of 1
 * or () leaves the type as it is; any other count makes a subarray, two items a structured dtype.
 */
function typeOfCommaString(s: string): NpyType | undefined {
  COMMA_ITEM.lastIndex = 0;
  const [item, order1, repeats, order2, type] = COMMA_ITEM.exec(s) as RegExpExecArray;
  if (!/^(?:\s+|\s*,\s*)?$/.test(s.slice(item.length))) return undefined;
  // = is the host's byte order, little-endian; | is none, which only matches itself.
  if (order1 !== '' && order2 !== '' && order1.replace('=', '<') !== order2.replace('=', '<')) return undefined;
  if (repeats !== '') {
    try {
      if (!isUnitShape(parsePyLiteral(tokenize(repeats, false).tokens))) return undefined;
    } catch {
      return undefined;
    }
  }
  return typeOfString(((order1 || order2) === '>' ? '>' : '') + type);
}

/**
 * Parses and checks a header as numpy's _read_array_header does, naming `source` in its errors:
 * the decoded text, the literal (Python 2 longs dropped in 1.0 and 2.0, see tokenize), its keys,
 * shape and fortran_order. Returns them with the descr, and whether longs were dropped.
 */
function readHeader(bytes: Uint8Array, major: number, source: string) {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, as Python's decode does (and literal_eval then rejects it).
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) : Buffer.from(bytes).toString('latin1');
  } catch {
    throw fail('NPY 3.0 header is not UTF-8');
  }
  const chars = [...text].length;
  if (chars > MAX_HEADER_CHARS) throw fail(`NPY header is ${chars} characters, more than the ${MAX_HEADER_CHARS} numpy.load reads`);
  let header: PyValue;
  let droppedLongs: boolean;
  try {
    const tokenized = tokenize(text, major <= 2);
    droppedLongs = tokenized.droppedLongs;
    header = parsePyLiteral(tokenized.tokens);
  } catch (err) {
    throw fail(`malformed NPY header: ${(err as Error).message}`);
  }
  if (!(header instanceof Map)) throw fail(`malformed NPY header: ${pyRepr(header)} is not a dict`);
  const keys = [...header.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw fail(`malformed NPY header: keys ${keys.map(pyRepr).join(', ')} are not descr, fortran_order and shape`);
  }
  const [descr, fortranOrder, shape] = ['descr', 'fortran_order', 'shape'].map((key) => header.get(key) as PyValue);
  if (!(shape instanceof PyTuple && shape.items.every((d) => typeof d === 'bigint'))) {
    throw fail(`malformed NPY header: shape ${pyRepr(shape)} is not a tuple of integers`);
  }
  if (typeof fortranOrder !== 'boolean') throw fail(`malformed NPY header: fortran_order ${pyRepr(fortranOrder)} is not True or False`);
  const dims = shape.items as bigint[];
  if (dims.some((d) => d < 0n)) throw fail(`NPY shape ${pyRepr(shape)} has a negative dimension`);
  if (dims.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) throw fail(`NPY shape ${pyRepr(shape)} has a dimension above 2^53 - 1`);
  return { descr, fortranOrder, shape: dims, droppedLongs };
}

/** Reverses the bytes of each `itemsize`-byte element: big-endian to little-endian. */
function swapBytes(bytes: Uint8Array, itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += itemsize) for (let j = 0; j < itemsize; j++) out[i + j] = bytes[i + itemsize - 1 - j];
  return out;
}

/** Reorders the `itemsize`-byte elements of an array of `shape` from Fortran order (first axis fastest) to C order. */
function fortranToC(bytes: Uint8Array, shape: number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  // Walk the C-order index like an odometer, moving `from` by the Fortran strides.
  const strides = shape.map((_, axis) => shape.slice(0, axis).reduce((a, b) => a * b, itemsize));
  const index = shape.map(() => 0);
  let from = 0;
  for (let to = 0; to < bytes.length; to += itemsize) {
    for (let j = 0; j < itemsize; j++) out[to + j] = bytes[from + j];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      from += strides[axis];
      if (++index[axis] < shape[axis]) break;
      from -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

/**
 * Decodes a .npy file held in `buf` into a RawTensor, as the module note describes. A bad magic or
 * version, a malformed header, a dtype not read here, too few data bytes or a uint64 above int64
 * throws an InputError whose one-line message starts with `source`; a Python 2 header and bytes after
 * the data are warned about, naming `source`.
 */
export function decodeNpy(buf: Uint8Array, source: string): RawTensor {
  const fail = (problem: string) => new InputError(`${source}: ${problem}`);
  if (buf.length < 8 || Buffer.from(buf.subarray(0, 6)).toString('latin1') !== MAGIC) throw fail('not a NPY file (no \\x93NUMPY magic)');
  const [major, minor] = [buf[6], buf[7]];
  if (major < 1 || major > 3 || minor !== 0) throw fail(`unsupported NPY format version ${major}.${minor}`);
  const headerStart = major === 1 ? 10 : 12;
  if (buf.length < headerStart) throw fail('NPY file ends inside its header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > buf.length) throw fail(`NPY header length ${headerLength} runs past the end of the ${buf.length}-byte file`);
  const { descr, fortranOrder, shape, droppedLongs } = readHeader(buf.subarray(headerStart, dataStart), major, source);

  const type = typeOfDescr(descr);
  if (type === undefined) {
    const what = pyRepr(descr);
    if (Array.isArray(descr)) throw fail(`unsupported NPY dtype ${what}: structured dtypes are not read`);
    if (descr instanceof PyTuple) throw fail(`unsupported NPY dtype ${what}: subarray dtypes are not read`);
    if (typeof descr !== 'string') throw fail(`malformed NPY header: descr ${what} is not a dtype`);
    throw fail(`unsupported NPY dtype ${what}: only bool, int8-int64, uint8-uint64 and float16/32/64 are read`);
  }
  const itemsize = Number(type.code.slice(1));
  const dtype = `${itemsize === 1 ? '|' : type.bigEndian ? '>' : '<'}${type.code}`;
  const dims = shape.map(Number);
  const needed = shape.reduce((a, b) => a * b, 1n) * BigInt(itemsize);
  const available = buf.length - dataStart;
  if (BigInt(available) < needed) throw fail(`NPY data is ${available} bytes but shape ${pyRepr(new PyTuple(shape))} of ${dtype} needs ${needed}`);
  let bytes = buf.subarray(dataStart, dataStart + Number(needed));
  if (type.bigEndian && itemsize > 1) bytes = swapBytes(bytes, itemsize);
  if (fortranOrder && dims.length > 1) bytes = fortranToC(bytes, dims, itemsize);
  const decoded = DECODED.get(type.code) as RawDtype | NarrowType;
  const raw: RawTensor =
    decoded === 'bool'
      ? { dtype: 'bool', shape: dims, data: Uint8Array.from(bytes, (v) => (v === 0 ? 0 : 1)) }
      : decoded === 'float32' || decoded === 'float64' || decoded === 'int64'
        ? { dtype: decoded, shape: dims, data: fromLittleEndian(bytes, decoded) }
        : { ...widen(bytes, decoded, source), shape: dims };
  if (droppedLongs) warn(`${source}: NPY header written by Python 2 (longs such as 6L); read as numpy reads it, without the L`);
  if (BigInt(available) > needed) warn(`${source}: ignored ${available - Number(needed)} bytes after the NPY data, as numpy.load does`);
  return raw;
}

/** Encodes `raw` as a .npy file byte-identical to what numpy's np.save writes for the same array. */
export function encodeNpy(raw: RawTensor): Buffer {
  checkRaw(raw, 'NPY array');
  const { shape } = raw;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const growth = shape.length > 0 ? ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length) : '';
  const dict = Buffer.from(`{'descr': '${WRITTEN[raw.dtype]}', 'fortran_order': False, 'shape': ${tuple}, }${growth}`, 'latin1');
  // Version 1.0 stores the header length in 2 bytes; longer headers need version 2.0's 4 bytes.
  let prefix = 10;
  let padding = ALIGN - ((prefix + dict.length + 1) % ALIGN);
  if (dict.length + 1 + padding > 0xffff) {
    prefix = 12;
    padding = ALIGN - ((prefix + dict.length + 1) % ALIGN);
  }
  const headerLength = dict.length + padding + 1;
  const data = littleEndianBytes(raw.data);
  const out = Buffer.alloc(prefix + headerLength + data.length, 0x20);
  out.write(MAGIC, 0, 'latin1');
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  if (prefix === 10) out.writeUInt16LE(headerLength, 8);
  else out.writeUInt32LE(headerLength, 8);
  dict.copy(out, prefix);
  out[prefix + headerLength - 1] = 0x0a;
  out.set(data, prefix + headerLength);
  return out;
}

/** Reads and decodes the .npy file at `path` (see decodeNpy); errors and warnings name the path. */
export function readNpy(path: string): RawTensor {
  return decodeNpy(readInputFile(path), path);
}

/** Encodes `raw` as .npy (see encodeNpy) and writes it to `path` atomically. */
export function writeNpy(path: string, raw: RawTensor): void {
  writeFileAtomic(path, encodeNpy(raw));
}
