import { createHash, timingSafeEqual } from 'node:crypto';
import { tokenProblem } from '@mmm/schemas';

/** What a token may do. `legacy-write` is always bound to one agent id: a key writes as its own agent only. */
export type Scope = 'read' | 'metrics' | 'legacy-write' | 'alerts-write';

export interface Grant {
  readonly read: boolean;
  readonly metrics: boolean;
  /** The agent id this token may write as through the legacy agent API. */
  readonly writeAs?: string;
  /** May change alert rules, acknowledge alerts and add silences. */
  readonly alertsWrite?: boolean;
  /** Where the token was defined, for logs (never the token itself). */
  readonly source: string;
}

interface Entry {
  readonly digest: Buffer;
  readonly grant: Grant;
}

export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

/**
 * Characters a token may use: URL-unreserved, so it survives a query string unescaped, and all of them are
 * RFC 7230 token characters, so it can ride in a WebSocket subprotocol (browsers cannot send headers there).
 */
const TOKEN_RE = /^[A-Za-z0-9._~-]{16,512}$/;
const HASHED_RE = /^sha256:([0-9a-f]{64})$/;

export function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A reason the token cannot be used, or undefined. */
export function tokenSyntaxProblem(token: string): string | undefined {
  return TOKEN_RE.test(token) ? undefined : 'a token needs 16 to 512 characters from A-Z a-z 0-9 . _ ~ -';
}

function parseScopes(text: string, where: string): Omit<Grant, 'source'> {
  let read = false;
  let metrics = false;
  let writeAs: string | undefined;
  let alertsWrite = false;
  for (const s of text.split(',')) {
    if (s === 'read') read = true;
    else if (s === 'alerts-write') alertsWrite = true;
    else if (s === 'metrics') metrics = true;
    else if (s.startsWith('legacy-write:')) {
      const agent = s.slice('legacy-write:'.length);
      const p = tokenProblem(agent);
      if (p) throw new TokenFileError(`${where}: legacy-write agent id ${p}`);
      if (writeAs !== undefined) throw new TokenFileError(`${where}: a token writes as one agent only`);
      writeAs = agent;
    } else
      throw new TokenFileError(
        `${where}: unknown scope ${JSON.stringify(s)} (read, metrics, alerts-write, legacy-write:<agent_id>; comma-separated)`,
      );
  }
  return { read, metrics, ...(alertsWrite ? { alertsWrite } : {}), ...(writeAs !== undefined ? { writeAs } : {}) };
}

export interface TokenDef {
  /** The token, or its digest when the file holds `sha256:<hex>` instead of the secret. */
  readonly token?: string;
  readonly digest?: Buffer;
  readonly grant: Grant;
}

/**
 * Parses a tokens file: one `<scopes> <token>` a line, `#` comments and blank lines ignored. The token may be
 * given as `sha256:<64 hex>` of the token, so the file need not hold the secret itself.
 */
export function parseTokensFile(text: string, file: string): TokenDef[] {
  const out: TokenDef[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new TokenFileError(`${where}: expected "<scopes> <token>"`);
    const [scopes, secret] = parts as [string, string];
    const grant = { ...parseScopes(scopes, where), source: where };
    const hashed = HASHED_RE.exec(secret);
    if (hashed) out.push({ digest: Buffer.from(hashed[1]!, 'hex'), grant });
    else {
      const p = tokenSyntaxProblem(secret);
      if (p) throw new TokenFileError(`${where}: ${p}`);
      out.push({ token: secret, grant });
    }
  });
  return out;
}

/**
 * The tokens in force. Lookups hash the presented token and compare it with every stored digest in constant time,
 * so neither the answer's timing nor an early exit tells how close a guess was. Replaced whole on a reload.
 */
export class TokenStore {
  private entries: readonly Entry[] = [];

  constructor(defs: readonly TokenDef[] = []) {
    this.replace(defs);
  }

  replace(defs: readonly TokenDef[]): void {
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const d of defs) {
      const digest = d.digest ?? digestOf(d.token ?? '');
      const hex = digest.toString('hex');
      if (seen.has(hex)) throw new TokenFileError(`${d.grant.source}: the same token is defined twice`);
      seen.add(hex);
      entries.push({ digest, grant: d.grant });
    }
    this.entries = entries;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The grant of a presented token, or undefined. */
  match(presented: string): Grant | undefined {
    const d = digestOf(presented);
    let found: Grant | undefined;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest)) found ??= e.grant;
    return found;
  }
}
