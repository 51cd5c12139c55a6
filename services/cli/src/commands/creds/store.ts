import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One NATS user: the password is known only to this file and the client's config; servers get a bcrypt hash. */
export interface UserSecret {
  user: string;
  password: string;
  hash: string;
}

export interface CredsState {
  version: 1;
  /** user name -> secret */
  users: Record<string, UserSecret>;
}

/** 24 random bytes, URL-safe: no quoting trouble in INI files, nats URLs or nats-server configs. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

export function readState(file: string): CredsState {
  if (!existsSync(file)) return { version: 1, users: {} };
  const state = JSON.parse(readFileSync(file, 'utf8')) as CredsState;
  if (state.version !== 1 || typeof state.users !== 'object')
    throw new Error(`${file} is not a credentials file of this version`);
  return state;
}

/** Secrets are readable by the owner only. */
export function writeSecret(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}
