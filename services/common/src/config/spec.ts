/** Field and section descriptions; the loader turns INI text into the typed values these describe. */
export type FieldSpec =
  | {
      type: 'string';
      default?: string;
      required?: boolean;
      choices?: readonly string[];
      description: string;
      secret?: boolean;
    }
  | {
      type: 'int';
      default?: number;
      required?: boolean;
      min?: number;
      max?: number;
      description: string;
      unit?: string;
    }
  | {
      type: 'number';
      default?: number;
      required?: boolean;
      min?: number;
      max?: number;
      description: string;
      unit?: string;
    }
  | { type: 'bool'; default?: boolean; required?: boolean; description: string }
  | { type: 'list'; default?: readonly string[]; required?: boolean; description: string };

export type FieldsSpec = Record<string, FieldSpec>;

export interface SectionSpec<F extends FieldsSpec = FieldsSpec> {
  description: string;
  fields: F;
  /** A section whose keys are free-form labels, all of one type (e.g. `[api_keys] label = key`). */
  freeform?: FieldSpec;
  required?: boolean;
}

export interface ConfigSpec {
  /** Sections named exactly. */
  sections: Record<string, SectionSpec>;
  /** Sections that repeat with a name suffix, e.g. `server_` matches `[server_primary]`. */
  prefixed?: Record<string, SectionSpec & { min?: number }>;
}

type Req<S extends FieldSpec> = S extends { required: true } ? true : S extends { default: unknown } ? true : false;
type ValueOf<S extends FieldSpec> = S['type'] extends 'string'
  ? string
  : S['type'] extends 'int' | 'number'
    ? number
    : S['type'] extends 'bool'
      ? boolean
      : readonly string[];
type FieldValue<S extends FieldSpec> = Req<S> extends true ? ValueOf<S> : ValueOf<S> | undefined;

export type SectionValue<S extends SectionSpec> = {
  readonly [K in keyof S['fields']]: FieldValue<S['fields'][K]>;
} & (S extends {
  freeform: FieldSpec;
}
  ? { readonly entries: Readonly<Record<string, ValueOf<NonNullable<S['freeform']>>>> }
  : unknown);

export type ConfigValue<C extends ConfigSpec> = {
  readonly [K in keyof C['sections']]: SectionValue<C['sections'][K]>;
} & {
  // `[server_primary]` sections are collected under `server` (the prefix without its trailing underscore).
  readonly [K in keyof NonNullable<C['prefixed']> as K extends `${infer N}_` ? N : K]: Readonly<
    Record<string, SectionValue<NonNullable<C['prefixed']>[K]>>
  >;
} & { readonly file?: string };

/** Identity function that keeps the literal types of a spec. */
export function defineConfig<const C extends ConfigSpec>(spec: C): C {
  return spec;
}
