import { readFileSync, type Stats, unwatchFile, watchFile } from 'node:fs';
import { ConfigError } from '@mmm/common';
import type { Logger } from 'pino';
import type { ApiConfig } from '../../config.js';
import type { ApiMetrics } from '../../metrics.js';
import { parseTokensFile, type TokenDef, TokenFileError, TokenStore, tokenSyntaxProblem } from './tokens.js';

/** How often the tokens file is checked for a change (a stat call; cheap). */
const WATCH_INTERVAL_MS = 1000;

export interface AuthTokensOptions {
  cfg: ApiConfig;
  /** Legacy keys of `[api_keys]`, key -> agent id, already validated. */
  legacyKeys: ReadonlyMap<string, string>;
  metrics: ApiMetrics;
  log: Logger;
}

/**
 * The tokens in force: `[auth] read_tokens` and `[api_keys]` from the config (fixed for the process's life) plus
 * `[auth] tokens_file`, which is re-read on `reload()` (SIGHUP) and when the file changes. A file that cannot be
 * read or parsed at start stops the start; on a reload it leaves the tokens in force as they were.
 */
export class AuthTokens {
  readonly store = new TokenStore();
  private readonly fixed: TokenDef[] = [];
  private readonly file: string | undefined;
  private listener: ((cur: Stats, prev: Stats) => void) | undefined;

  constructor(private readonly o: AuthTokensOptions) {
    const { cfg } = o;
    this.file = cfg.auth.tokens_file;
    for (const [i, t] of cfg.auth.read_tokens.entries()) {
      const p = tokenSyntaxProblem(t);
      if (p) throw new ConfigError(`token ${i + 1}: ${p}`, { file: cfg.file, section: 'auth', key: 'read_tokens' });
      this.fixed.push({ token: t, grant: { read: true, metrics: false, source: `[auth] read_tokens #${i + 1}` } });
    }
    for (const [key, agent] of o.legacyKeys)
      this.fixed.push({
        token: key,
        grant: { read: false, metrics: false, writeAs: agent, source: `[api_keys] ${agent}` },
      });
    try {
      this.store.replace([...this.fixed, ...this.readFile()]);
    } catch (err) {
      if (!(err instanceof TokenFileError)) throw err;
      throw new ConfigError(err.message, { file: cfg.file, section: 'auth', key: 'tokens_file' }, { cause: err });
    }
    o.metrics.authTokens.set(this.store.size);
  }

  /** Reads are open only when no read token can exist: none in the config and no tokens file. */
  get readsOpen(): boolean {
    return this.o.cfg.auth.read_tokens.length === 0 && this.file === undefined;
  }

  private readFile(): TokenDef[] {
    if (this.file === undefined) return [];
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      throw new TokenFileError(`cannot read the tokens file ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    return parseTokensFile(text, this.file);
  }

  /** Re-reads the tokens file; true when the new set is in force. */
  reload(): boolean {
    if (this.file === undefined) return true;
    try {
      this.store.replace([...this.fixed, ...this.readFile()]);
    } catch (err) {
      this.o.metrics.authReloads.inc({ result: 'error' });
      this.o.log.error({ err: (err as Error).message }, 'tokens file not reloaded; the previous tokens stay in force');
      return false;
    }
    this.o.metrics.authReloads.inc({ result: 'ok' });
    this.o.metrics.authTokens.set(this.store.size);
    this.o.log.info({ file: this.file, tokens: this.store.size }, 'tokens reloaded');
    return true;
  }

  /** Polls the file's stat rather than an inotify watch, which loses the file when an editor renames over it. */
  watch(): void {
    if (this.file === undefined || this.listener) return;
    this.listener = (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.reload();
    };
    watchFile(this.file, { interval: WATCH_INTERVAL_MS, persistent: false }, this.listener);
  }

  close(): void {
    if (this.file !== undefined && this.listener) unwatchFile(this.file, this.listener);
    this.listener = undefined;
  }
}
