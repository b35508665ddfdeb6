#!/usr/bin/env node
import { Command } from 'commander';
import { centralDbPath } from '../central/central.js';
import { coverageOf } from '../central/coverage.js';
import { coverageCsv } from '../dashboard/routes/coverage.js';
import { mosquittoAcl } from '../ingest/mosquitto.js';
import { AttendanceSimulator, parseAttendanceScript } from '../simulators/attendance/attendance-sim.js';
import { runDialler } from '../simulators/dc09/dialler.js';
import { runCameras } from '../simulators/onvif/fleet.js';
import { openCentralStore } from '../storage/open-store.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { createCentral } from './central.js';
import { runDemo } from './demo.js';
import { createGateway } from './gateway.js';
import { addRegion, addUser, provisionGateway } from './provision.js';
import { fail, runService } from './run.js';
import { simulateButtons } from './simulate.js';

const program = new Command();
program
  .name('carewatch')
  .description('Safety-monitoring gateway and alert service for elderly-care institutions');

program
  .command('central')
  .description('run the central: MQTT ingest, alerts, HTTP/WebSocket API')
  .option('-c, --config <file>', 'central YAML config')
  .option('--data-dir <dir>', 'where the central keeps its database')
  .option('--mqtt-port <port>', 'MQTT listen port')
  .option('--http-port <port>', 'HTTP listen port')
  .option('--host <addr>', 'listen address for MQTT and HTTP')
  .option(
    '--retire',
    "external broker only: drain and delete this instance's broker sessions (the messages they hold are stored), then exit; for an instance removed for good",
  )
  .action(async (flags) => {
    const central = createCentral(flags);
    if (flags.retire) {
      try {
        await central.start();
        const r = central.retired!;
        process.stdout.write(
          `central retired: ${r.sessions.length} session(s) drained and deleted (${r.sessions.join(', ') || 'none'}), ${r.handled} message(s) handled\n`,
        );
      } finally {
        await central.stop();
      }
      process.exit(0);
    }
    await runService('central', central);
    process.stdout.write(`central ready mqtt=${central.ports.mqtt} http=${central.ports.http}\n`);
  });

program
  .command('gateway')
  .description('run a site gateway')
  .requiredOption('-c, --config <file>', 'site YAML config')
  .action(async (flags: { config: string }) => {
    const gw = createGateway(flags.config);
    await runService('gateway', gw);
    const dc09 =
      (gw.panels ? ` dc09=${gw.panels.ports.tcp ?? '-'}/${gw.panels.ports.udp ?? '-'}` : '') +
      (gw.fireSystems ? ` gb26875=${gw.fireSystems.port}` : '');
    process.stdout.write(
      `gateway ready bus=${gw.localBus.port}${gw.ops ? ` ops=${gw.ops.port}` : ''}${dc09}\n`,
    );
  });

const provision = program.command('provision').description('create credentials');
provision
  .command('gateway')
  .description("create or re-key a gateway's MQTT credentials (printed once, stored hashed)")
  .requiredOption('--site <id>', 'site id')
  .requiredOption('--gateway <id>', 'gateway id (its MQTT user name and client id)')
  .option('--site-name <name>', 'site display name')
  .option('--region <region>', 'region path')
  .option(
    '--password <secret>',
    'use this secret instead of a generated one (hashed at the full scrypt cost: slower logins)',
  )
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f) => {
    const r = await provisionGateway({
      dataDir: f.dataDir,
      siteId: f.site,
      siteName: f.siteName,
      region: f.region,
      gatewayId: f.gateway,
      password: f.password,
    });
    process.stdout.write(`gateway ${r.gatewayId} of site ${r.siteId}\npassword: ${r.password}\n`);
  });

const user = program.command('user').description('manage web users');
user
  .command('add')
  .description('create or update a user')
  .requiredOption('--username <name>')
  .requiredOption('--role <role>', 'admin, institution_head, institution_staff, civil_affairs or fire_rescue')
  .option('--sites <ids>', 'comma-separated site ids (institution roles)')
  .option('--region <id>', 'region overseen (civil_affairs, fire_rescue)')
  .option('--password <password>')
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f) => {
    const r = await addUser({
      dataDir: f.dataDir,
      username: f.username,
      role: f.role,
      sites: f.sites,
      region: f.region,
      password: f.password,
    });
    process.stdout.write(`user ${r.username}\npassword: ${r.password}\n`);
  });

program
  .command('export')
  .description('export configuration for other systems')
  .command('mosquitto-acl')
  .description('Mosquitto ACL file for external-broker mode (gateways and the central user)')
  .option('--central-user <name>', 'MQTT user of the central instances', 'carewatch-central')
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f: { centralUser: string; dataDir: string }) => {
    const store = await openCentralStore(f);
    try {
      const gws = (await store.registry.gateways()).filter((g) => !g.disabled);
      process.stdout.write(mosquittoAcl(gws, f.centralUser));
    } finally {
      await store.close();
    }
  });

program
  .command('backup')
  .description('consistent online copy of the central store (events, alerts, audit, archives) while it runs')
  .requiredOption('--out <file>', 'backup file to write')
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f: { out: string; dataDir: string }) => {
    const db = openDatabase(centralDbPath(f));
    try {
      const r = await db.backup(f.out);
      process.stdout.write(`backup ${f.out}: ${r.totalPages} pages\n`);
    } finally {
      db.close();
    }
  });

program
  .command('coverage')
  .description('camera coverage of the required zones per institution (table or CSV)')
  .option('--csv', 'CSV for inspections (UTF-8 with BOM)')
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f: { csv?: boolean; dataDir: string }) => {
    const store = await openCentralStore(f);
    try {
      const presence = await store.registry.presence();
      const sites = await Promise.all(
        (await store.registry.sites()).map(async (s) =>
          coverageOf(
            s,
            await store.registry.inventory(s.id),
            presence.some((p) => p.siteId === s.id && p.state === 'online'),
            Date.now(),
          ),
        ),
      );
      if (f.csv) process.stdout.write(coverageCsv(sites));
      else {
        for (const s of sites) {
          process.stdout.write(
            `${s.siteId} ${s.siteName}: ${s.compliant ? 'compliant 合规' : 'GAPS 不合规'}\n`,
          );
          for (const z of s.zones)
            process.stdout.write(`  ${z.ok ? '✔' : '✘'} ${z.zone.padEnd(15)} ${z.reason}\n`);
        }
      }
    } finally {
      await store.close();
    }
  });

program
  .command('cameras')
  .description('ONVIF cameras')
  .command('discover')
  .description('WS-Discovery probe: prints each camera found and a cameras.devices YAML snippet')
  .option('--unicast <host:port...>', 'probe these targets directly (loopback, routed networks)')
  .option('--multicast', 'also probe 239.255.255.250:3702 (the default without --unicast)')
  .option('--timeout <ms>', 'how long answers are collected', '3000')
  .option('--username <user>', 'ONVIF user, to read model and profiles')
  .option('--password <secret>', 'ONVIF password (or CAREWATCH_ONVIF_PASSWORD)')
  .action(
    async (f: {
      unicast?: string[];
      multicast?: boolean;
      timeout: string;
      username?: string;
      password?: string;
    }) => {
      const { runDiscover } = await import('../gateway/adapters/onvif/discover-report.js');
      process.exitCode = await runDiscover(
        {
          ...(f.unicast ? { unicast: f.unicast } : {}),
          ...(f.multicast ? { multicast: true } : {}),
          timeoutMs: Math.max(100, Number(f.timeout) || 3000),
          ...(f.username ? { username: f.username } : {}),
          ...((f.password ?? process.env.CAREWATCH_ONVIF_PASSWORD)
            ? { password: f.password ?? process.env.CAREWATCH_ONVIF_PASSWORD }
            : {}),
        },
        (t) => process.stdout.write(t),
      );
    },
  );

program
  .command('region')
  .description('manage the region tree')
  .command('add')
  .description('add or rename a region')
  .requiredOption('--id <id>')
  .requiredOption('--name <name>')
  .requiredOption('--level <level>', 'province, city, district or street')
  .option('--parent <id>', 'parent region')
  .option('--data-dir <dir>', 'central data directory', 'data/central')
  .action(async (f) => {
    await addRegion({ dataDir: f.dataDir, id: f.id, name: f.name, level: f.level, parent: f.parent });
    process.stdout.write(`region ${f.id}\n`);
  });

const simulate = program.command('simulate').description('simulated devices');
simulate
  .command('buttons')
  .description('zigbee2mqtt-style emergency call buttons on a gateway local bus')
  .requiredOption('--bus <url>', 'the gateway local bus, e.g. mqtt://127.0.0.1:1884')
  .option('--script <steps>', "e.g. 'press btn-101; wait 500; cancel btn-101'")
  .option('--stdin', 'read script steps from stdin, one line at a time')
  .option('--devices <ids>', 'random presses/cancels on these devices')
  .option('--rate <perSecond>', 'random actions per second', '0.2')
  .option('--duration <s>', 'stop after this many seconds (0: run until stopped)', '0')
  .action(simulateButtons);

simulate
  .command('attendance')
  .description('fire-control room badge readers and presence sensors on a gateway local bus')
  .requiredOption('--bus <url>', 'the gateway local bus')
  .requiredOption(
    '--script <steps>',
    "e.g. 'in badge-1 op-1; in badge-1 op-2; occupancy pir-1 2; out badge-1 op-2'",
  )
  .action(async (f: { bus: string; script: string }) => {
    const steps = parseAttendanceScript(f.script);
    const sim = new AttendanceSimulator(f.bus);
    await sim.start();
    try {
      await sim.run(steps);
    } finally {
      await sim.stop();
    }
  });

simulate
  .command('cameras')
  .description(
    'ONVIF cameras (WS-Discovery, SOAP, digest auth, snapshots, PullPoint) with live H.264 RTSP streams',
  )
  .allowUnknownOption(true)
  .helpOption(false)
  .argument(
    '[args...]',
    '--count 3 --zones entrance,corridor,canteen --rtsp-port 8554 --http-base-port 8080 --password ...',
  )
  .action(async (args: string[]) => {
    const fleet = await runCameras(args);
    const stop = () => void fleet.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

simulate
  .command('dc09')
  .description('an alarm panel dialling SIA DC-09 (Contact ID or SIA, plain or AES)')
  .allowUnknownOption(true)
  .helpOption(false)
  .argument(
    '[args...]',
    "--host --port --account --key --proto tcp|udp --format cid|sia --script 'fire:1;restore:1;heartbeat'",
  )
  .action(async (args: string[]) => {
    process.exitCode = await runDialler(args);
  });

simulate
  .command('gb26875')
  .description(
    'a user information transmission device speaking GB/T 26875.3 (fire, fault, restore, post checks)',
  )
  .allowUnknownOption(true)
  .helpOption(false)
  .argument(
    '[args...]',
    "--host --port --address 0x07 --script 'fire:3F-corridor;restore:3F-corridor' --answer-post-check yes|no --hold-ms 0",
  )
  .action(async (args: string[]) => {
    const { runDevice } = await import('../simulators/gb26875/run.js');
    process.exitCode = await runDevice(args);
  });

program
  .command('demo')
  .description('central + one simulated institution on embedded defaults (npm start)')
  .option('--data-dir <dir>', 'demo data directory', 'data/demo')
  .option('--http-port <port>', 'HTTP port', '8080')
  .option('--mqtt-port <port>', 'MQTT port', '1883')
  .option('--bus-port <port>', 'gateway local bus port', '1884')
  .option('--camera-port <port>', 'first ONVIF port of the simulated cameras', '8091')
  .option('--rtsp-port <port>', 'RTSP port of the simulated cameras', '8554')
  .action(runDemo);

program.parseAsync().catch(fail);
