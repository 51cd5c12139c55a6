import { ContractError } from './errors.js';

/**
 * Site and agent ids become subject tokens and stream names, so they are held to the intersection of both rules:
 * NATS forbids `.`, `*`, `>` and whitespace in a token; stream names also forbid path separators.
 * We allow letters, digits, `_` and `-`, up to 64 characters, which every original agent id we know of satisfies.
 */
export const TOKEN_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const TOKEN_RE = new RegExp(TOKEN_PATTERN);

/** Site ids that would collide with the non-site branches of the subject tree. */
export const RESERVED_SITES: readonly string[] = ['derived', 'dlq', 'legacy-admin', 'alerts'];

export function tokenProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > 64) return 'must be at most 64 characters';
  if (TOKEN_RE.test(value)) return undefined;
  const bad = [...value].find((c) => !/[A-Za-z0-9_-]/.test(c));
  const shown = bad === undefined ? '' : /\s/.test(bad) ? 'whitespace' : `'${bad}'`;
  return `contains ${shown}; only letters, digits, '_' and '-' are allowed`;
}

/** Throws a ContractError naming what the token is (e.g. "site id") and why it is unusable. */
export function assertToken(what: string, value: unknown): string {
  const problem = tokenProblem(value);
  if (problem) throw new ContractError(`${what} ${JSON.stringify(value)} ${problem}`);
  return value as string;
}

export function assertSite(site: unknown): string {
  assertToken('site id', site);
  if (RESERVED_SITES.includes(site as string)) {
    throw new ContractError(`site id ${JSON.stringify(site)} is reserved for ${RESERVED_SITES.join(', ')} subjects`);
  }
  return site as string;
}
