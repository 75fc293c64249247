/**
 * Validates the CLI's JSON documents against the JSON Schemas the package ships in `schemas/`
 * (draft 2020-12), with ajv. Each schema file is `schemas/NAME.schema.json`; its `$id` is
 * `https://virt-nested.dev/schemas/NAME.schema.json`, so one schema may `$ref` another by file name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Ajv2020Type from 'ajv/dist/2020.js';

// ajv is CommonJS; its class is module.exports itself
const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof Ajv2020Type.default;

const SCHEMAS = join(process.cwd(), 'schemas');

let ajv: Ajv2020Type.default | undefined;

function load(): Ajv2020Type.default {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: true, strict: true });
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as object, file);
  }
  return ajv;
}

/**
 * The problems of `document` against `schemas/NAME.schema.json`, as "path: message" lines; [] when it
 * is valid. Use as `expect(schemaErrors('check-host', JSON.parse(stdout))).toEqual([])`.
 */
export function schemaErrors(name: string, document: unknown): string[] {
  const validate = load().getSchema(`${name}.schema.json`);
  if (!validate) throw new Error(`no schema schemas/${name}.schema.json`);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? ''}`);
}
