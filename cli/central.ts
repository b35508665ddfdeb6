import { escalationProblem } from '../alerts/escalation-config.js';
import { parseNotifyConfig } from '../alerts/notify/index.js';
import { ruleProblem } from '../alerts/rule-config.js';
import { Central } from '../central/central.js';
import { CentralConfig } from '../central/config.js';
import { loadConfigFile, validateConfig } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';

export interface CentralFlags {
  config?: string;
  dataDir?: string;
  mqttPort?: string;
  httpPort?: string;
  host?: string;
}

export function centralConfigFrom(flags: CentralFlags): CentralConfig {
  const base = flags.config
    ? loadConfigFile(CentralConfig, flags.config)
    : validateConfig(CentralConfig, {}, 'defaults');
  const merged = structuredClone(base) as CentralConfig;
  if (flags.dataDir) merged.dataDir = flags.dataDir;
  if (flags.mqttPort !== undefined) merged.mqtt.port = Number(flags.mqttPort);
  if (flags.httpPort !== undefined) merged.http.port = Number(flags.httpPort);
  if (flags.host) {
    merged.mqtt.host = flags.host;
    merged.http.host = flags.host;
  }
  const config = validateConfig(CentralConfig, merged, flags.config ?? 'command line');
  config.alerts.rules.forEach((r, i) => {
    const problem = ruleProblem(r);
    if (problem) throw new ConfigError(`${flags.config ?? 'command line'}: /alerts/rules/${i}: ${problem}`);
  });
  const escalation = escalationProblem(config.alerts.escalation);
  if (escalation) throw new ConfigError(`${flags.config ?? 'command line'}: /alerts/escalation${escalation}`);
  if (config.notify !== undefined)
    parseNotifyConfig(config.notify, `${flags.config ?? 'command line'} /notify`);
  if (config.mqtt.mode === 'external' && !config.mqtt.external) {
    throw new ConfigError(
      `${flags.config ?? 'command line'}: /mqtt/external: required when /mqtt/mode is 'external'`,
    );
  }
  return config;
}

export function createCentral(flags: CentralFlags & { retire?: boolean }): Central {
  return new Central(centralConfigFrom(flags), undefined, { retire: flags.retire === true });
}
