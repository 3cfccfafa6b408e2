// A real edge (test PKI, echo upstream) with its admin listener and Debian's chromium, for the
// browser tests of the admin pages. Call from a mocha `before`: it skips the suite when chromium is
// absent, and `stop()` closes the browser, the edge and the admin listener (also after a failure).
import { existsSync, mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { statusSnapshot } from '../../src/edge/statusSnapshot.js';
import { createObservability, type Observability } from '../../src/observe/index.js';
import { testPki } from './edgeHarness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PageEdge {
  readonly edge: RunningEdge;
  readonly obs: Observability;
  readonly browser: Browser;
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export async function startPageEdge(
  suite: Mocha.Context,
  opts: { accessLogFormat: 'off' | 'cpi'; stdout: Writable },
): Promise<PageEdge> {
  if (!existsSync(CHROMIUM)) {
    console.log(`      skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
    suite.skip();
  }
  mkdirSync('test-output', { recursive: true });
  const { dir } = await testPki();
  const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: 0, bind: '127.0.0.1', pkiDir: dir } });
  let running: RunningEdge | null = null;
  const obs = await createObservability({
    logFormat: 'json',
    accessLogFormat: opts.accessLogFormat,
    admin: { host: '127.0.0.1', port: 0 },
    stdout: opts.stdout,
    defaultMetrics: false,
    status: () => statusSnapshot(running!, 'test', Date.now(), '127.0.0.1'),
    lessons: { pkiDir: () => loaded.resolved.devPki?.dir ?? null, openModeListener: (mode) => running!.openLessonListener(mode) },
  });
  let browser: Browser | null = null;
  try {
    running = await startEdge(loaded.config, loaded.resolved, obs.bus, obs.metrics ?? undefined);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  } catch (err) {
    await running?.close(1000);
    await obs.close();
    throw err;
  }
  const edge = running;
  const launched = browser;
  return {
    edge,
    obs,
    browser: launched,
    adminUrl: `http://127.0.0.1:${obs.adminPort}/`,
    async stop() {
      await launched.close().catch(() => undefined);
      await edge.close(1000);
      await obs.close();
    },
  };
}
