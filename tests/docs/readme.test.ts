import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CentralConfig } from '../../central/config.js';
import { GatewayConfig } from '../../gateway/config.js';
import { validateConfig } from '../../lib/config.js';
import { ROOT } from '../../lib/testkit/procs.js';

/** The README's configuration examples, each under the sentence that names its file. */
function examples(): Array<{ file: string; yaml: string }> {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [
    ...md.matchAll(
      /`(site|central)\.yaml`[^\n]*\n\n```yaml\n([\s\S]*?)```|\(several central instances[^\n]*\n\n```yaml\n([\s\S]*?)```/g,
    ),
  ].map((m) => (m[1] ? { file: `${m[1]}.yaml`, yaml: m[2]! } : { file: 'central.yaml', yaml: m[3]! }));
}

describe('README configuration examples', () => {
  it('are found: site.yaml, central.yaml and the external-broker central.yaml', () => {
    expect(examples().map((e) => e.file)).toEqual(['site.yaml', 'central.yaml', 'central.yaml']);
  });

  it('validate against the schemas the processes load them with', () => {
    for (const e of examples()) {
      const schema = e.file === 'site.yaml' ? GatewayConfig : CentralConfig;
      expect(
        () => validateConfig(schema, parse(e.yaml), `README ${e.file}`),
        e.yaml.slice(0, 80),
      ).not.toThrow();
    }
  });
});
