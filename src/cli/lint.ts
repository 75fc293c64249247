import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VirtNestedError } from '../errors.js';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.js';
import type { CpuMode } from '../domain/types.js';
import { lintPaths } from '../lint/lint-paths.js';
import type { SchemaValidator } from '../lint/lint-text.js';
import { DEFAULT_SCHEMA_DIR, loadDomainSchema } from '../lint/schema.js';
import type { CliIo } from './io.js';
import { formatGithub, formatJson, formatSarif, formatText } from './lint-format.js';

/** The package's version: compiled into the bundle by the build, a global of jest's in the tests. */
declare const VIRT_NESTED_VERSION: string;

async function loadSchema(options: Record<string, unknown>, io: CliIo): Promise<SchemaValidator | undefined> {
  if (options['schema'] === false) return undefined;
  const asked = options['schemaDir'] as string | undefined;
  if (asked !== undefined && !existsSync(join(asked, 'domain.rng'))) {
    throw new VirtNestedError('USAGE', `--schema-dir ${asked} has no domain.rng`);
  }
  const schema = await loadDomainSchema(asked ?? DEFAULT_SCHEMA_DIR);
  if (!schema) {
    io.stderr(`virt-nested: libvirt's schema was not found in ${DEFAULT_SCHEMA_DIR}; skipping the schema rule (install libvirt-clients, or pass --schema-dir DIR or --no-schema)\n`);
  }
  return schema;
}

/** `virt-nested lint PATH…|-`. */
export async function run(paths: string[], options: Record<string, unknown>, io: CliIo): Promise<number> {
  const schema = await loadSchema(options, io);
  const report = await lintPaths(paths, {
    requireMode: (options['requireMode'] as CpuMode | 'any' | undefined) ?? 'any',
    fix: Boolean(options['fix']),
    ...(schema ? { schema } : {}),
    ...(io.stdin ? { stdin: io.stdin() } : {}),
  });
  const format = options['format'] ?? 'text';
  io.stdout(
    format === 'json' ? formatJson(report)
      : format === 'github' ? formatGithub(report)
        : format === 'sarif' ? formatSarif(report, VIRT_NESTED_VERSION)
          : formatText(report),
  );
  return report.problems.some((p) => p.severity === 'error') ? EXIT_FAILED : EXIT_OK;
}
