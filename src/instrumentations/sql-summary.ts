/** What a statement does, for span names a person can read: `SELECT orders`, `COMMIT`. */
export interface SqlSummary {
  /** `SELECT`, `INSERT`, `START TRANSACTION`, ...; undefined when there is no word to read. */
  readonly operation: string | undefined;
  /** The first table the statement names (`orders`, `public.orders`), when it names one. */
  readonly collection: string | undefined;
}

/** Keywords after which the next word is the statement's table. */
const TABLE_AFTER: Readonly<Record<string, readonly string[]>> = {
  SELECT: ['FROM'],
  DELETE: ['FROM'],
  INSERT: ['INTO'],
  MERGE: ['INTO'],
  COPY: [],
  UPDATE: [],
  TRUNCATE: ['TABLE'],
  CREATE: ['TABLE', 'INDEX', 'VIEW', 'SEQUENCE'],
  DROP: ['TABLE', 'INDEX', 'VIEW', 'SEQUENCE'],
  ALTER: ['TABLE'],
};
const SKIPPED = new Set(['IF', 'NOT', 'EXISTS', 'ONLY', 'LOCAL', 'TEMPORARY', 'TEMP', 'UNLOGGED', 'OR']);
const MAX_WORDS = 256;

/**
 * Reads the operation and the first table of an SQL statement, as the database semantic conventions
 * name spans (`{db.operation.name} {db.collection.name}`). A light scan of the first words, not a
 * parser: a statement it cannot read gets the operation alone. Meant for sanitized text (no
 * literals), so a name never carries a value.
 */
export function summarizeSql(sql: string): SqlSummary {
  const words = firstWords(sql);
  const first = words[0]?.toUpperCase();
  if (first === undefined || !/^[A-Z]+$/.test(first)) return { operation: undefined, collection: undefined };
  if (first === 'START' && words[1]?.toUpperCase() === 'TRANSACTION') {
    return { operation: 'START TRANSACTION', collection: undefined };
  }
  const markers = TABLE_AFTER[first];
  if (markers === undefined) return { operation: first, collection: undefined };
  let index = markers.length === 0 ? 1 : -1;
  // Only a marker outside parentheses counts: `EXTRACT(YEAR FROM created)` names no table.
  let depth = 0;
  for (let i = 1; index < 0 && i < words.length; i++) {
    const word = words[i] as string;
    if (word === '(') depth++;
    else if (word === ')') depth--;
    else if (depth === 0 && markers.includes(word.toUpperCase())) index = i + 1;
  }
  while (index > 0 && index < words.length && SKIPPED.has((words[index] as string).toUpperCase())) index++;
  const table = index > 0 ? words[index] : undefined;
  return { operation: first, collection: table === undefined ? undefined : unquote(table) };
}

/** The span name for a summary: `SELECT orders`, `BEGIN`, or `fallback`. */
export function spanNameFor(summary: SqlSummary, fallback: string): string {
  if (summary.operation === undefined) return fallback;
  return summary.collection === undefined ? summary.operation : `${summary.operation} ${summary.collection}`;
}

/** Words and quoted identifiers (dotted names kept whole), up to {@link MAX_WORDS}. */
function firstWords(sql: string): string[] {
  const matches = sql.matchAll(
    /(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*)(?:\.(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*))*|[();]/gu,
  );
  const words: string[] = [];
  for (const match of matches) {
    // Parentheses and `;` are kept as words: `(` where the table should be means a subquery.
    words.push(match[0]);
    if (words.length >= MAX_WORDS) break;
  }
  return words;
}

function unquote(name: string): string | undefined {
  if (name === '(' || name === ')' || name === ';') return undefined;
  return name.replace(/"((?:[^"]|"")*)"/g, (_, inner: string) => inner.replace(/""/g, '"'));
}
