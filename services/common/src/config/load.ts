import { readFileSync } from 'node:fs';
import { parse } from 'ini';
import { ConfigError } from '../errors.js';
import type { ConfigSpec, ConfigValue, FieldSpec, SectionSpec } from './spec.js';

export interface LoadOptions {
  /** Environment for `MMM_<SECTION>_<KEY>` overrides; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** `MMM_SERVER_PRIMARY_URL` for `[server_primary] url`. */
export function envName(section: string, key: string): string {
  return `MMM_${section}_${key}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(raw: unknown, spec: FieldSpec, where: { file?: string; section: string; key: string }): unknown {
  if (typeof raw === 'boolean' && spec.type === 'bool') return raw;
  if (typeof raw !== 'string' && typeof raw !== 'boolean') {
    throw new ConfigError('expected a single value (repeated or nested keys are not supported)', where);
  }
  const s = String(raw).trim();
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(s)) {
        throw new ConfigError(`must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(s)}`, where);
      }
      return s;
    case 'bool':
      if (TRUE.has(s.toLowerCase())) return true;
      if (FALSE.has(s.toLowerCase())) return false;
      throw new ConfigError(`must be true or false, got ${JSON.stringify(s)}`, where);
    case 'int':
    case 'number': {
      const n = Number(s);
      if (s === '' || !Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
        throw new ConfigError(
          `must be ${spec.type === 'int' ? 'a whole number' : 'a number'}, got ${JSON.stringify(s)}`,
          where,
        );
      }
      if (spec.min !== undefined && n < spec.min)
        throw new ConfigError(`must be at least ${spec.min}, got ${n}`, where);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`must be at most ${spec.max}, got ${n}`, where);
      return n;
    }
    case 'list':
      return s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
  }
}

function loadSection(
  name: string,
  spec: SectionSpec,
  raw: Record<string, unknown> | undefined,
  env: Record<string, string | undefined>,
  file: string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = raw ?? {};
  for (const key of Object.keys(given)) {
    if (!(key in spec.fields) && !spec.freeform) {
      const known = Object.keys(spec.fields).join(', ');
      throw new ConfigError(`unknown key (known keys: ${known})`, { file, section: name, key });
    }
  }
  for (const [key, field] of Object.entries(spec.fields)) {
    const fromEnv = env[envName(name, key)];
    const where = { file: fromEnv !== undefined ? `${envName(name, key)} (environment)` : file, section: name, key };
    const value = fromEnv !== undefined ? fromEnv : given[key];
    if (value === undefined || value === '') {
      if (field.default !== undefined) out[key] = field.default;
      else if (field.required) throw new ConfigError('is required', { file, section: name, key });
      else out[key] = undefined;
      continue;
    }
    out[key] = coerce(value, field, where);
  }
  if (spec.freeform) {
    const entries: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given)) {
      if (key in spec.fields) continue;
      entries[key] = coerce(value, spec.freeform, { file, section: name, key });
    }
    out.entries = entries;
  }
  return out;
}

/**
 * Parses INI text against a spec: unknown sections and keys are errors naming file, section and key; values are
 * coerced and range-checked; `MMM_<SECTION>_<KEY>` environment variables override file values.
 */
export function parseConfig<C extends ConfigSpec>(
  spec: C,
  text: string,
  file?: string,
  opts: LoadOptions = {},
): ConfigValue<C> {
  const env = opts.env ?? process.env;
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError('is not a valid INI file', { file }, { cause });
  }
  const out: Record<string, unknown> = { file };
  const prefixed = spec.prefixed ?? {};
  for (const [name, value] of Object.entries(doc)) {
    if (typeof value !== 'object' || value === null) {
      throw new ConfigError(`key ${JSON.stringify(name)} is outside any [section]`, { file });
    }
    if (name in spec.sections) continue;
    if (Object.keys(prefixed).some((p) => name.startsWith(p) && name.length > p.length)) continue;
    const known = [...Object.keys(spec.sections), ...Object.keys(prefixed).map((p) => `${p}*`)].join(', ');
    throw new ConfigError(`unknown section (known sections: ${known})`, { file, section: name });
  }
  for (const [name, sec] of Object.entries(spec.sections)) {
    const raw = doc[name] as Record<string, unknown> | undefined;
    if (!raw && sec.required) throw new ConfigError('section is required', { file, section: name });
    out[name] = loadSection(name, sec, raw, env, file);
  }
  for (const [prefix, sec] of Object.entries(prefixed)) {
    const group: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(doc)) {
      if (!name.startsWith(prefix) || name.length === prefix.length || name in spec.sections) continue;
      group[name.slice(prefix.length)] = loadSection(name, sec, raw as Record<string, unknown>, env, file);
    }
    if ((sec.min ?? 0) > Object.keys(group).length) {
      throw new ConfigError(`needs at least ${sec.min} [${prefix}<name>] section(s)`, { file });
    }
    out[prefix.replace(/_$/, '')] = group;
  }
  return out as ConfigValue<C>;
}

/** Reads and parses a config file; a missing file is a ConfigError naming the path. */
export function loadConfig<C extends ConfigSpec>(
  spec: C,
  file: string | undefined,
  opts: LoadOptions = {},
): ConfigValue<C> {
  if (!file) return parseConfig(spec, '', undefined, opts);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      `cannot read the configuration file (${(cause as NodeJS.ErrnoException).code ?? cause})`,
      { file },
      { cause },
    );
  }
  return parseConfig(spec, text, file, opts);
}

/** Renders a commented sample INI from a spec, for `--create-config`. */
export function sampleConfig(spec: ConfigSpec, values: Record<string, Record<string, string>> = {}): string {
  const lines: string[] = [];
  const section = (name: string, sec: SectionSpec) => {
    lines.push(`# ${sec.description}`, `[${name}]`);
    for (const [key, f] of Object.entries(sec.fields)) {
      const unit = 'unit' in f && f.unit ? ` (${f.unit})` : '';
      lines.push(`# ${f.description}${unit}${f.required ? ' [required]' : ''}`);
      const v =
        values[name]?.[key] ??
        (f.default === undefined ? undefined : Array.isArray(f.default) ? f.default.join(',') : String(f.default));
      lines.push(v === undefined ? `;${key} =` : `${key} = ${v}`);
    }
    for (const [key, v] of Object.entries(values[name] ?? {})) if (!(key in sec.fields)) lines.push(`${key} = ${v}`);
    lines.push('');
  };
  for (const [name, sec] of Object.entries(spec.sections)) section(name, sec);
  for (const [prefix, sec] of Object.entries(spec.prefixed ?? {})) {
    for (const name of Object.keys(values).filter((n) => n.startsWith(prefix))) section(name, sec);
  }
  return lines.join('\n');
}
