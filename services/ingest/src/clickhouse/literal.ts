/** A value that cannot be written as a ClickHouse literal (NaN, Infinity, objects). */
export class LiteralError extends TypeError {
  override readonly name = 'LiteralError';
}

export type SqlValue = string | number | bigint | boolean | null | undefined | readonly SqlValue[];

// ClickHouse string literals take C-style escapes. Escaping every control character (not only quote and backslash)
// keeps a hostile node name from ending a statement in a log line or confusing the 18.16 parser with a raw NUL.
function escapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `'${out}'`;
}

/**
 * Formats a value as a ClickHouse SQL literal. ClickHouse 18.16 has no query parameters, so every value that reaches
 * a query goes through here: strings quoted and escaped, numbers finite, arrays element-wise.
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return escapeString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new LiteralError(`${value} cannot be written as a ClickHouse literal`);
    // Plain decimal, never exponent form for integers; negative numbers in parentheses so `-` cannot join a preceding `-`.
    const text = Number.isInteger(value) ? BigInt(value).toString() : String(value);
    return value < 0 ? `(${text})` : text;
  }
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return `[${value.map((v) => sqlLiteral(v)).join(', ')}]`;
  throw new LiteralError(`a ${typeof value} cannot be written as a ClickHouse literal`);
}

/** `(a, b, c)` for `IN` lists; an empty list becomes a list no row matches. */
export function sqlList(values: readonly SqlValue[]): string {
  if (values.length === 0) return '(NULL)';
  return `(${values.map((v) => sqlLiteral(v)).join(', ')})`;
}

/** Identifiers (table and database names) from configuration: letters, digits and `_` only, quoted. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new LiteralError(`${JSON.stringify(name)} is not a usable identifier (letters, digits and _ only)`);
  }
  return `\`${name}\``;
}
