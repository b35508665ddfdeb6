import { GatewayConfig } from '../gateway/config.js';
import { Gateway } from '../gateway/gateway.js';
import { loadConfigFile } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';

export function createGateway(configPath: string): Gateway {
  const config = loadConfigFile(GatewayConfig, configPath);
  const password = process.env.CAREWATCH_GATEWAY_PASSWORD ?? config.password;
  if (!password) {
    throw new ConfigError(`${configPath}: /password: required (or set CAREWATCH_GATEWAY_PASSWORD)`);
  }
  return new Gateway(config, password);
}
