import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CentralConfig } from '../../central/config.js';
import { GatewayConfig } from '../../gateway/config.js';
import { mosquittoAcl } from '../../ingest/mosquitto.js';
import { validateConfig } from '../../lib/config.js';
import { packageRoot } from '../../lib/paths.js';
import { TimeSeriesConfig } from '../../storage/timeseries/config.js';

/**
 * docker-compose.yml and deploy/ checked against the code: no Docker engine
 * runs here, so every reference the deployment makes (services, ports, config
 * files and their schemas, CLI commands, ACL, secrets) is checked statically.
 */

const ROOT = packageRoot();
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  restart?: string;
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** Bind mounts of a service: host path (repo-relative) → container path. */
const binds = (s: Service) =>
  (s.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([src]) => src!.startsWith('./'))
    .map(([src, dst]) => ({ src: src!.slice(2), dst: dst! }));
const named = (s: Service) =>
  (s.volumes ?? [])
    .map((v) => v.split(':')[0]!)
    .filter((src) => !src.startsWith('.') && !src.startsWith('/'));
const argv = (s: Service) => (Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/));
const configArg = (s: Service) => {
  const a = argv(s);
  return a[a.indexOf('--config') + 1];
};
const hostFile = (s: Service, containerPath: string | undefined) => {
  const b = binds(s).find((x) => x.dst === containerPath);
  if (!b) throw new Error(`${containerPath} is not mounted from the repository`);
  return b.src;
};

/** central.yaml as the central would load it; `timeseries` checked on its own until CentralConfig has it. */
function loadCentralYaml(path: string): CentralConfig & { timeseries?: TimeSeriesConfig } {
  const raw = parse(read(path)) as Record<string, unknown>;
  const wired = 'timeseries' in CentralConfig.properties;
  const { timeseries, ...rest } = raw;
  const central = validateConfig(CentralConfig, wired ? raw : rest, path);
  const ts =
    timeseries === undefined
      ? undefined
      : validateConfig(TimeSeriesConfig, timeseries, `${path}: timeseries`);
  return { ...central, ...(ts ? { timeseries: ts } : {}) };
}

/** The CLI's commands, read from cli/main.ts: top level and `parent sub`. */
function cliCommands(): Set<string> {
  const src = read('cli/main.ts');
  const out = new Set<string>();
  for (const m of src.matchAll(/program\s*\.command\('([a-z-]+)'\)/g)) out.add(m[1]!);
  for (const m of src.matchAll(/const (\w+) = program\.command\('([a-z-]+)'\)/g)) {
    for (const s of src.matchAll(new RegExp(`\\b${m[1]}\\s*\\.command\\('([a-z-]+)'\\)`, 'g'))) {
      out.add(`${m[2]} ${s[1]}`);
    }
  }
  return out;
}

/** `node dist/cli/main.js <words…> --flags` → the words before the first flag, or null. */
function carewatchCommand(args: string[]): string[] | null {
  if (args[0] !== 'node' || args[1] !== 'dist/cli/main.js') return null;
  const end = args.findIndex((a, i) => i >= 2 && a.startsWith('-'));
  return args.slice(2, end === -1 ? undefined : end);
}

/** A command with subcommands needs one of them; one without takes no further word. */
function isKnownCommand(known: Set<string>, words: string[]): boolean {
  const [w0, w1] = words;
  if (!w0) return false;
  const hasSubs = [...known].some((k) => k.startsWith(`${w0} `));
  return hasSubs ? words.length === 2 && known.has(`${w0} ${w1}`) : words.length === 1 && known.has(w0);
}

const central = svc('central');
const centralYamlPath = hostFile(central, configArg(central));
const centralYaml = loadCentralYaml(centralYamlPath);
const gateway = svc('demo-gateway');
const siteYamlPath = hostFile(gateway, configArg(gateway));
const siteYaml = validateConfig(GatewayConfig, parse(read(siteYamlPath)), siteYamlPath);

describe('docker-compose.yml', () => {
  it('has the services of the deployment', () => {
    for (const name of ['mosquitto', 'postgres', 'influxdb', 'central', 'demo-gateway', 'demo-buttons'])
      svc(name);
    expect(svc('postgres').image).toMatch(/^postgres:15/);
    expect(svc('influxdb').image).toMatch(/^influxdb:1\.8/);
    expect(svc('mosquitto').image).toMatch(/mosquitto/);
    expect(central.deploy?.replicas).toBe(2);
  });

  it('depends only on services that exist, with valid conditions', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy')
          expect(services[dep]!.healthcheck, `${dep} has a health check`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[dep]!.restart).toBe('no');
      }
    }
  });

  it('declares every named volume it mounts, data and recordings included', () => {
    const used = new Set(Object.values(services).flatMap(named));
    for (const v of used) expect(Object.keys(compose.volumes), `volume ${v}`).toContain(v);
    expect(named(central)).toContain('central-data');
    expect(named(gateway)).toEqual(expect.arrayContaining(['gateway-data', 'recordings']));
    expect(binds(gateway).length + named(gateway).length).toBe((gateway.volumes ?? []).length);
  });

  it('mounts config files that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const b of binds(s)) expect(existsSync(join(ROOT, b.src)), `${name}: ./${b.src}`).toBe(true);
    }
    expect(centralYamlPath).toBe('deploy/central.yaml');
    expect(siteYamlPath).toBe('deploy/site.yaml');
  });

  it("publishes the central's HTTP port from central.yaml and reaches the broker it names", () => {
    const containerPorts = (central.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    expect(containerPorts).toContain(centralYaml.http.port);
    expect(centralYaml.http.port).toBe(8080); // the CentralConfig default
    expect(centralYaml.http.host).toBe('0.0.0.0'); // reachable from outside the container
    // several replicas need the external broker (the embedded one cannot share its subscriptions)
    expect(centralYaml.mqtt.mode).toBe('external');
    const url = new URL(centralYaml.mqtt.external!.url);
    expect(services[url.hostname], `broker ${url.hostname}`).toBeDefined();
    const listener = /^listener (\d+)/m.exec(read('deploy/mosquitto/mosquitto.conf'));
    expect(Number(url.port)).toBe(Number(listener?.[1]));
    expect(Number(url.port)).toBe(1883); // the CentralConfig MQTT default
    expect(svc(url.hostname).ports).toContain('1883:1883');
  });

  it("points the central's time series at the influxdb service", () => {
    const ts = centralYaml.timeseries;
    expect(ts?.backend).toBe('influx');
    const url = new URL(ts!.influx!.url);
    expect(services[url.hostname]).toBe(svc('influxdb'));
    expect(svc('influxdb').environment?.INFLUXDB_ADMIN_USER).toBe(ts!.influx!.username);
    expect(svc('influxdb').environment?.INFLUXDB_DB).toBe(ts!.influx!.database);
  });

  it('connects the demo gateway to the broker and the simulator to the gateway', () => {
    const url = new URL(siteYaml.central.url);
    expect(services[url.hostname]).toBeDefined();
    expect(Number(url.port)).toBe(1883);
    expect(siteYaml.localBus.host).toBe('0.0.0.0');
    const sim = argv(svc('demo-buttons'));
    const bus = new URL(sim[sim.indexOf('--bus') + 1]!);
    expect(services[bus.hostname]).toBe(gateway);
    expect(Number(bus.port)).toBe(siteYaml.localBus.port);
    const devices = sim[sim.indexOf('--devices') + 1]!.split(',');
    expect(devices).toEqual(siteYaml.buttons.devices.map((d) => d.deviceId));
  });

  it('has a health check on every stateful service, each asking the right thing', () => {
    const test = (name: string) => (svc(name).healthcheck?.test ?? []).join(' ');
    for (const [name, s] of Object.entries(services)) {
      if (named(s).length > 0 && s.restart !== 'no')
        expect(s.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    expect(test('central')).toContain(`http://127.0.0.1:${centralYaml.http.port}/readyz`);
    expect(test('postgres')).toMatch(/pg_isready/);
    expect(test('influxdb')).toMatch(/\/ping/);
    expect(test('mosquitto')).toMatch(/mosquitto_sub .* -E/);
    expect(test('demo-gateway')).toContain(String(siteYaml.localBus.port));
  });

  it('writes no secret inline: passwords come from environment variables', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (!/PASSWORD|SECRET|TOKEN|_KEY/.test(k)) continue;
        expect(v, `${name}.${k}`).toMatch(/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/);
      }
      const text = JSON.stringify([s.command, s.entrypoint, s.healthcheck]);
      for (const m of text.matchAll(/(?:--password|-P)\s+\\?"?([^\s"\\]+)/g)) {
        expect(m[1], `${name}: a password argument`).toMatch(/^\$\$[A-Z0-9_]+$/);
        expect(Object.keys(s.environment ?? {}), `${name} has ${m[1]}`).toContain(m[1]!.slice(2));
      }
    }
    expect(parse(read(centralYamlPath))).not.toHaveProperty('password');
    expect(parse(read(siteYamlPath))).not.toHaveProperty('password');
    expect(read('deploy/.env.example')).toMatch(/^CAREWATCH_MQTT_PASSWORD=$/m);
  });

  it('runs only commands the CLI has', () => {
    const known = cliCommands();
    for (const c of ['central', 'gateway', 'simulate buttons', 'provision gateway', 'user add']) {
      expect(known.has(c), c).toBe(true);
    }
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== 'carewatch:local') continue;
      if (s.entrypoint) {
        // a shell line: every `node dist/cli/main.js …` in it
        const line = argv(s).join(' ');
        const runs = [...line.matchAll(/node dist\/cli\/main\.js((?: [a-z][a-z-]*)+)/g)];
        expect(runs.length, `${name} runs the carewatch CLI`).toBeGreaterThan(0);
        for (const m of runs)
          expect(isKnownCommand(known, m[1]!.trim().split(' ')), `${name}: ${m[0]}`).toBe(true);
        continue;
      }
      const c = carewatchCommand(argv(s));
      expect(c, `${name} runs the carewatch CLI`).not.toBeNull();
      expect(isKnownCommand(known, c!), `${name}: ${c?.join(' ')}`).toBe(true);
    }
  });

  it('builds every carewatch service from deploy/Dockerfile into one image', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== 'carewatch:local') continue;
      expect(s.build, name).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
    }
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const json = (instr: string) => {
    const m = new RegExp(`^${instr} (\\[.*\\])$`, 'm').exec(dockerfile);
    return m ? (JSON.parse(m[1]!) as string[]) : null;
  };

  it('builds on node:20-bookworm-slim with npm install and npm run build', () => {
    expect(dockerfile.match(/^FROM (\S+)/gm)).toEqual([
      'FROM node:20-bookworm-slim',
      'FROM node:20-bookworm-slim',
    ]);
    expect(dockerfile).toMatch(/^RUN npm (ci|install)\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    expect(JSON.parse(read('package.json')).scripts.build).toBeDefined();
  });

  it('runs `carewatch central` with the config path the compose file mounts', () => {
    const cmd = json('CMD');
    expect(cmd).toEqual(['node', 'dist/cli/main.js', 'central', '--config', '/etc/carewatch/central.yaml']);
    expect(isKnownCommand(cliCommands(), carewatchCommand(cmd!)!)).toBe(true);
    expect(isKnownCommand(cliCommands(), ['central', 'nonsense'])).toBe(false);
    expect(isKnownCommand(cliCommands(), ['simulate'])).toBe(false);
    expect(argv(central)).toEqual(cmd);
    expect(binds(central).map((b) => b.dst)).toContain(cmd![4]);
  });

  it('enters through the replica script, which the image contains', () => {
    expect(json('ENTRYPOINT')).toEqual(['sh', '/app/deploy/entrypoint.sh']);
    expect(dockerfile).toMatch(/^COPY deploy\/entrypoint\.sh deploy\/replica-config\.mjs \.\/deploy\/$/m);
    for (const f of ['deploy/entrypoint.sh', 'deploy/replica-config.mjs'])
      expect(existsSync(join(ROOT, f))).toBe(true);
    expect(centralYaml.mqtt.external?.clientId).toBeTruthy();
  });

  it('keeps node_modules, data and secrets out of the build context', () => {
    const ignore = read('deploy/Dockerfile.dockerignore').split('\n');
    for (const p of ['node_modules', 'dist', 'data', '.env']) expect(ignore).toContain(p);
  });
});

describe('deploy/mosquitto', () => {
  it('has the ACL that `carewatch export mosquitto-acl` writes for the demo gateway', () => {
    const acl = mosquittoAcl(
      [{ id: siteYaml.gatewayId, siteId: siteYaml.siteId }],
      centralYaml.mqtt.external!.username!,
    );
    expect(read('deploy/mosquitto/acl')).toBe(acl);
  });

  it('writes a password entry for the central user and the demo gateway, from the environment', () => {
    const init = read('deploy/mosquitto/init.sh');
    expect(init).toContain(
      `mosquitto_passwd -b "$f" ${centralYaml.mqtt.external!.username} "$CAREWATCH_MQTT_PASSWORD"`,
    );
    expect(init).toContain(`mosquitto_passwd -b "$f" ${siteYaml.gatewayId} "$CAREWATCH_GATEWAY_PASSWORD"`);
    const conf = read('deploy/mosquitto/mosquitto.conf');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^password_file \/mosquitto\/data\/passwd$/m);
    expect(conf).toMatch(/^acl_file \/mosquitto\/config\/acl$/m);
    expect(svc('mosquitto').volumes).toContain('./deploy/mosquitto:/mosquitto/config:ro');
  });
  it('points the central and its init at the PostgreSQL service, and the gateway at the central for uploads', () => {
    const pg = svc('postgres').environment!;
    for (const name of ['central', 'central-init']) {
      const url = svc(name).environment?.CAREWATCH_PG_URL ?? '';
      expect(url, name).toMatch(
        new RegExp(
          `^postgres://${pg.POSTGRES_USER}:\\$\\{CAREWATCH_PG_PASSWORD[^}]*\\}@postgres:5432/${pg.POSTGRES_DB}$`,
        ),
      );
    }
    const http = new URL(siteYaml.central.httpUrl!);
    expect(services).toHaveProperty(http.hostname);
    expect(Number(http.port)).toBe(centralYaml.http.port);
  });
});
