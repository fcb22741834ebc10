import type { DbStatementMode } from '../config/load-config.js';

/** Statements longer than this are cut: X-Ray caps a whole segment document at 64 KB. */
export const MAX_STATEMENT_LENGTH = 4096;

const SINGLE_QUOTE = 39; // '
const DOUBLE_QUOTE = 34; // "
const DOLLAR = 36; // $
const DASH = 45; // -
const SLASH = 47; // /
const STAR = 42; // *
const BACKSLASH = 92; // \
const DOT = 46; // .

/**
 * Replaces every string and numeric literal of a PostgreSQL statement with `?` and drops comments,
 * so values written into the text (`WHERE email = 'a@b.c'`, Sequelize's inlined `WHERE id = 42`)
 * never leave the function. Quoted identifiers, keywords and `$1` placeholders are kept.
 *
 * Handles `'...'` with `''` escapes, `E'...'` with backslash escapes, `B'..'`/`X'..'`/`U&'..'`,
 * dollar quoting (`$$...$$`, `$tag$...$tag$`, PostgreSQL 4.1.2.4), `--` and nested `/* *\/`
 * comments. A linear scan with no regular expression: it cannot backtrack, and it never throws
 * (an unterminated literal swallows the rest of the text, which is then not recorded).
 *
 * @example
 * sanitizeSql(`SELECT * FROM orders WHERE id = 42 AND note = 'it''s'`);
 * // 'SELECT * FROM orders WHERE id = ? AND note = ?'
 */
export function sanitizeSql(sql: string): string {
  let out = '';
  let copyFrom = 0;
  let i = 0;
  const n = sql.length;
  const emit = (from: number, to: number, replacement: string): void => {
    out += sql.slice(copyFrom, from) + replacement;
    copyFrom = to;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === SINGLE_QUOTE) {
      const start = literalPrefixStart(sql, i);
      const escapes = start < i && (sql.charCodeAt(start) | 0x20) === 101; // E'...'
      const end = skipQuoted(sql, i, escapes);
      emit(start, end, '?');
      i = end;
    } else if (c === DOUBLE_QUOTE) {
      i = skipQuoted(sql, i, false);
    } else if (c === DOLLAR) {
      const tagEnd = dollarTagEnd(sql, i);
      if (tagEnd < 0) {
        // `$1` placeholders and identifiers' `$` stay as they are.
        i = skipWord(sql, i + 1);
      } else {
        const tag = sql.slice(i, tagEnd);
        const close = sql.indexOf(tag, tagEnd);
        const end = close < 0 ? n : close + tag.length;
        emit(i, end, '?');
        i = end;
      }
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      const eol = sql.indexOf('\n', i);
      const end = eol < 0 ? n : eol;
      emit(i, end, '');
      i = end;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const end = skipBlockComment(sql, i);
      emit(i, end, ' ');
      i = end;
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      const end = skipNumber(sql, i);
      emit(i, end, '?');
      i = end;
    } else if (isWordChar(c)) {
      i = skipWord(sql, i);
    } else {
      i++;
    }
  }
  return copyFrom === 0 ? sql : out + sql.slice(copyFrom);
}

/**
 * The text a span records for `sql` under `mode`, cut to {@link MAX_STATEMENT_LENGTH};
 * `undefined` when statements are off. Never throws. `sanitized` is `sanitizeSql(sql)` when the
 * caller already has it (one scan per query, not two).
 */
export function statementFor(sql: string, mode: DbStatementMode, sanitized?: string): string | undefined {
  if (mode === 'off') return undefined;
  try {
    const text = mode === 'raw' ? sql : (sanitized ?? sanitizeSql(sql));
    return text.length > MAX_STATEMENT_LENGTH ? text.slice(0, MAX_STATEMENT_LENGTH) : text;
  } catch {
    return undefined;
  }
}

/** Where a literal starts, counting a one-letter prefix (`E'`, `B'`, `X'`, `N'`) or `U&'`. */
function literalPrefixStart(sql: string, quote: number): number {
  const before = sql.charCodeAt(quote - 1) | 0x20;
  if (quote >= 2 && sql.charCodeAt(quote - 1) === 38 && (sql.charCodeAt(quote - 2) | 0x20) === 117) {
    return isWordChar(sql.charCodeAt(quote - 3)) ? quote : quote - 2; // U&'
  }
  if (before === 101 || before === 98 || before === 120 || before === 110) {
    return isWordChar(sql.charCodeAt(quote - 2)) ? quote : quote - 1;
  }
  return quote;
}

/** The index after a quoted literal or identifier starting at `open`; doubled quotes escape. */
function skipQuoted(sql: string, open: number, backslashEscapes: boolean): number {
  const quote = sql.charCodeAt(open);
  let i = open + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === BACKSLASH) {
      i += 2;
    } else if (c === quote) {
      if (sql.charCodeAt(i + 1) !== quote) return i + 1;
      i += 2;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** The end of a `$tag$` opener at `i`, or -1 when `$` starts something else (`$1`, `a$b`). */
function dollarTagEnd(sql: string, i: number): number {
  if (i > 0 && isWordChar(sql.charCodeAt(i - 1))) return -1;
  let j = i + 1;
  if (isDigit(sql.charCodeAt(j))) return -1;
  while (j < sql.length && isWordChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== DOLLAR) j++;
  return sql.charCodeAt(j) === DOLLAR ? j + 1 : -1;
}

function skipBlockComment(sql: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth++;
      i += 2;
    } else if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Decimal, exponent and `0x`/`0o`/`0b` numbers (PostgreSQL 16), with `_` separators. */
function skipNumber(sql: string, start: number): number {
  let i = start;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    const sign = (c === 43 || c === DASH) && (sql.charCodeAt(i - 1) | 0x20) === 101; // 1e-5
    if (isWordChar(c) || c === DOT || sign) i++;
    else break;
  }
  return i;
}

function skipWord(sql: string, start: number): number {
  let i = start;
  while (i < sql.length && isWordChar(sql.charCodeAt(i))) i++;
  return i;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Letters, digits, `_`, `$` and non-ASCII: what identifiers and keywords are made of. */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === DOLLAR || c > 127;
}
