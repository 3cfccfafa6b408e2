// The edge as a process: observability up first (so start-up problems are logged in the chosen
// format), then the edge, the ready banner with a curl command to try, the pid file, and signal
// handling: SIGTERM/SIGINT (or, with --exit-with-parent, the parent's end) drain in-flight requests
// then exit 0; SIGHUP reloads the configuration.
import { relative, resolve } from 'node:path';
import { tryItCommand } from '../observe/tryIt.js';
import { watchFiles } from '../config/watch.js';
import { createObservability } from '../observe/index.js';
import { adminToken } from '../observe/adminAccess.js';
import { warnExpiringCertificates } from '../observe/expiry.js';
import { emptyStatus, type StatusSnapshot } from '../observe/status.js';
import { ownCertificates, statusSnapshot } from '../edge/statusSnapshot.js';
import { VERSION } from '../version.js';
import { ALL_WORKERS_READY, isClusterWorker, PKI_GENERATED_ENV, WORKER_READY, workerNumber } from './workerNumber.js';
import { watchParent } from './parentWatch.js';
import { writePidFile } from './pidFile.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { flagAndSetting, type ConfigOverrides, type ProcessSettings } from '../config/startFlags.js';
import { ConfigError } from '../config/configError.js';
import { restartOnlyChanges } from '../config/restartOnly.js';
import { startEdge, type RunningEdge } from '../edge/edge.js';
import { connectionErrorEvent } from '../edge/faultBoundary.js';
import { descriptorNotice, descriptorsPerConnection, openFilesLimit } from '../edge/descriptorLimit.js';
import { usesBuiltInEcho } from '../edge/routeTable.js';
import { exposureWarning } from '../edge/listenerExposure.js';

export interface RunOptions {
  configFile?: string;
  overrides: ConfigOverrides;
  process: ProcessSettings;
  parentPid: number;
}

export async function runEdgeProcess(loaded: LoadedConfig, opts: RunOptions): Promise<void> {
  const { config } = loaded;
  const startedAt = Date.now();
  let status: () => StatusSnapshot = () => ({ ...emptyStatus(VERSION), ready: false });
  // The lessons use the dev PKI the edge serves (null with a tls: section) as of the last (re)load.
  let devPkiDir: string | null = loaded.resolved.devPki?.dir ?? null;
  let running: RunningEdge | null = null;
  let obs;
  try {
    obs = await createObservability({
      logFormat: config.log.format,
      logLevel: config.log.level,
      accessLogFormat: config.log.access,
      // One flow page: with --workers the admin listener lives in worker 1.
      admin:
        config.admin === false || workerNumber() > 1
          ? null
          : { host: config.admin.host, port: config.admin.port, token: adminToken(config.admin.token), allowedHosts: config.admin.allowed_hosts },
      ringSize: config.ring_size,
      expiryDays: config.expiry_warning_days,
      status: () => status(),
      lessons: {
        pkiDir: () => devPkiDir,
        openModeListener: (mode) => (running ? running.openLessonListener(mode) : Promise.reject(new Error('the edge is not running yet'))),
      },
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`mtls-edge: configuration error:\n  ${e.joined('\n  ')}\n`);
      process.exit(2);
    }
    const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    const fix = inUse ? `: stop what holds it, or pick another port with ${flagAndSetting('admin-port')}; 0 = any free port, --no-admin turns the admin listener off` : '';
    process.stderr.write(`mtls-edge: ${(e as Error).message}${fix}\n`);
    process.exit(1);
  }
  const { logger, bus, metrics } = obs;
  // The last resort. Every place where a client's input enters the edge is a fault boundary that
  // ends only that connection (src/edge/faultBoundary.ts), so nothing should arrive here; should a
  // fault escape all the same (a callback of a library, a timer), one client must not stop the edge
  // for every other one: the fault is logged with its stack and counted, and the edge goes on.
  const lastResort = (err: unknown): void => bus.emit(connectionErrorEvent({ listener: 'edge', stage: 'uncaught', clientAddress: '-' }, err));
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);

  let edge: RunningEdge;
  try {
    edge = await startEdge(config, loaded.resolved, bus, metrics ?? undefined);
  } catch (e) {
    logger.error((e as Error).message);
    await obs.close();
    process.exit(1);
  }
  running = edge;
  status = () => statusSnapshot(edge, VERSION, startedAt, config.bind);
  warnExpiringCertificates(bus, ownCertificates(edge), { days: config.expiry_warning_days });
  // One line for the whole edge: every --workers worker has the same limit and caps.
  const descriptors = workerNumber() <= 1 ? descriptorNotice(config.max_connections, openFilesLimit(), descriptorsPerConnection(usesBuiltInEcho(loaded.resolved.routes)), loaded.maxConnectionsDefaulted) : null;
  if (descriptors) logger[descriptors.level](descriptors.message);
  const exposure = workerNumber() <= 1 ? exposureWarning(config.bind, edge.httpPort) : null;
  if (exposure) logger.warn(exposure);

  // Only now, with every listener bound, does anything read as ready. With --workers the first
  // worker speaks for all (the ports are shared, the admin listener is its own), once the primary
  // says every worker is ready and the pid file is written.
  const devPki = loaded.resolved.devPki;
  const announceReady = (): void => {
    if (devPki && (loaded.resolved.devPkiGenerated || process.env[PKI_GENERATED_ENV] === '1')) {
      logger.info(`dev PKI generated in ${relative(process.cwd(), devPki.dir) || devPki.dir} (first start there; its README.txt says what each file is for)`, { pkiDir: devPki.dir });
    }
    logger.info('mtls-edge ready', {
      https: `https://localhost:${edge.httpsPort}`,
      http: edge.httpPort === null ? null : `http://localhost:${edge.httpPort}`,
      mode: config.forwarded_client_cert,
      tlsConfigs: loaded.resolved.tlsProfiles.map((p) => `${p.name} (${p.clientAuth})`).join(', '),
      upstreams: loaded.resolved.routes.map((r) => `${r.host}${r.path} \u2192 ${r.upstream}`).join(', '),
    });
    if (devPki) logger.info(`try it: ${tryItCommand(devPki.dir, edge.httpsPort)}`);
    obs.announceAdmin();
  };
  // Reload on SIGHUP and whenever a file the configuration was read from changes. A broken new
  // configuration keeps the running one and says exactly why; of a valid one, the settings read
  // only at start (src/config/restartOnly.ts) keep their running values, and a warning names them.
  let unwatch = (): void => undefined;
  const watched = (l: LoadedConfig): string[] => [...l.resolved.files, ...(opts.configFile ? [resolve(opts.configFile)] : [])];
  let reloading: Promise<void> = Promise.resolve();
  const reloadFailed = (why: string, e: unknown): void =>
    logger.error(`reload (${why}) failed, keeping the running configuration: ${e instanceof ConfigError ? e.joined('; ') : (e as Error).message}`);
  const reload = (why: string): void => {
    reloading = reloading.then(() =>
      loadConfig({ file: opts.configFile, overrides: opts.overrides }).then(
        (next) => {
          try {
            edge.reload(next.config, next.resolved);
          } catch (e) {
            reloadFailed(why, e);
            return;
          }
          devPkiDir = next.resolved.devPki?.dir ?? null;
          warnExpiringCertificates(bus, ownCertificates(edge), { days: next.config.expiry_warning_days });
          unwatch();
          unwatch = watchFiles(watched(next), (changed) => reload(`changed: ${changed.join(', ')}`));
          logger.info(`configuration reloaded (${why})`, { tlsConfigs: next.resolved.tlsProfiles.length, routes: next.resolved.routes.length });
          // Compared with the configuration the edge started with: those are the values still running.
          const restartOnly = restartOnlyChanges(config, next.config);
          if (restartOnly.length > 0) {
            logger.warn(`reload (${why}): ${restartOnly.join(', ')} changed, and take${restartOnly.length === 1 ? 's' : ''} effect only at a restart: the running edge keeps the values it started with`, { restartOnly });
          }
        },
        (e: Error) => reloadFailed(why, e),
      ),
    );
  };
  unwatch = watchFiles(watched(loaded), (changed) => reload(`changed: ${changed.join(', ')}`));
  process.on('SIGHUP', () => reload('SIGHUP'));

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`${why}: draining ${edge.inFlight()} in-flight request(s)`);
    // Readiness probes see the drain at once, so no new traffic is sent here while it lasts.
    const running = status;
    status = () => ({ ...running(), ready: false });
    unwatch();
    await edge.close(10_000);
    await obs.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM received'));
  process.on('SIGINT', () => void stop('SIGINT received'));
  if (opts.process.exitWithParent) watchParent(opts.parentPid, () => void stop(`parent process ${opts.parentPid} ended`));
  if (opts.process.pidFile) {
    try {
      writePidFile(opts.process.pidFile);
    } catch (e) {
      // A script waits for this file: without it the edge would run on unseen, so it stops.
      logger.error(`--pid-file ${opts.process.pidFile}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose another path`);
      await edge.close(0);
      await obs.close();
      process.exit(1);
    }
  }
  // Ready last: reloads, signals and the pid file are in place before anything reads as ready.
  if (workerNumber() > 0) logger.debug(`worker ${workerNumber()} listening`, { worker: workerNumber() });
  if (workerNumber() === 1) {
    process.on('message', (message: unknown) => {
      if (message === ALL_WORKERS_READY) announceReady();
    });
  } else if (workerNumber() === 0) announceReady();
  // Under --workers the primary writes the pid file once every worker said it is ready.
  if (isClusterWorker()) process.send?.(WORKER_READY);
}
