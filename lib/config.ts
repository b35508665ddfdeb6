import { readFileSync } from 'node:fs';
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describeErrors } from '../protocol/validate.js';
import { ConfigError } from './errors.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });

/**
 * Validates a config object against its schema, filling defaults. Errors name
 * the file, the field and the problem, e.g.
 * `site.yaml: /central/url: must match format "uri"`.
 */
export function validateConfig<S extends TSchema>(schema: S, value: unknown, source: string): Static<S> {
  const check = ajv.compile(schema);
  const copy = structuredClone(value ?? {});
  if (!check(copy)) {
    throw new ConfigError(`${source}: ${describeErrors(check.errors)}`, { source });
  }
  return copy as Static<S>;
}

/** Reads a YAML (or JSON) file and validates it. */
export function loadConfigFile<S extends TSchema>(schema: S, path: string): Static<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config file: ${(err as Error).message}`, { path });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`, { path });
  }
  return validateConfig(schema, value, path);
}
