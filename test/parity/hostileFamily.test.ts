// The hostile family (`certs init --hostile`) against real HAProxy: each kind's chain and key go
// through a real TLS handshake to HAProxy (the Cloud Foundry template's haproxy.cfg, sanitize_set,
// verify optional, the dev root as ca-file) and to mtls-edge with the same settings, both in front of
// the same echo upstream; the client outcome (HTTP status, or no HTTP response and the TLS alert) and
// the ten X-SSL-Client-* / XFCC headers the upstream received are compared. Ignore-list variants run
// for the kinds they change. It runs once per HAProxy version found (Debian's 2.6, the 3.2 build
// beside the repository) and prints one result line per version; docs/certs.md reports the results.
//
// random-utf8-bytes cannot be loaded by an OpenSSL-based client (OpenSSL 3 refuses to decode the Name),
// so the client loads a copy whose CN bytes are a same-length ASCII placeholder and offers TLS 1.2 only
// (the client Certificate message travels in clear); a loopback relay swaps the placeholder for the
// kind's real bytes on the way to the server, so the server receives exactly the kind's chain file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEchoServer, type EchoServer } from '../../src/echo/echoServer.js';
import { ensureHostile, HOSTILE_KINDS, hostilePaths, type HostileKind } from '../../src/pki/hostile.js';
import { httpsRequest, startTestEdge, testPki, type ClientIdentity, type TestEdge } from '../support/edgeHarness.js';
import { freePort, H10_NAMES, haproxyVersion, majorMinor, parityTargets, renderHaproxyConfig, startHaproxy, supportsFetch, writeServerPem, type HaproxyTarget, type RunningHaproxy } from './haproxy.js';
import { describeOutcome, NORMALISATIONS, requestHeaders, type Outcome } from './parityCases.js';
import { compare, KNOWN_DIFFERENCES, knownDifferencesFor, outcomeOf, pool, type Facts, type KnownDifference } from './parityCompare.js';

interface HostileSetting {
  readonly id: string;
  /** crt-ignore-err/ca-ignore-err, and the same for mtls-edge's ignore_errors. */
  readonly ignore?: string;
  readonly kinds: readonly HostileKind[];
  /** Also send every kind with the client limited to TLS 1.2. */
  readonly tls12Too?: boolean;
}

const SETTINGS: readonly HostileSetting[] = [
  { id: 'sanitize_set', kinds: HOSTILE_KINDS, tls12Too: true },
  { id: 'sanitize_set/ignore-18', ignore: '18', kinds: ['empty-subject-self-signed'] },
  { id: 'sanitize_set/ignore-10', ignore: '10', kinds: ['expired-bad-signature', 'chain-50'] },
  { id: 'sanitize_set/ignore-7,10', ignore: '7,10', kinds: ['expired-bad-signature'] },
  { id: 'sanitize_set/ignore-all', ignore: 'all', kinds: ['expired-bad-signature', 'empty-subject-self-signed', 'rsa1024-key'] },
];

/** Kinds an OpenSSL client cannot load: sent over TLS 1.2 only, through the rewriting relay. */
const RELAYED: ReadonlySet<HostileKind> = new Set(['random-utf8-bytes']);

interface HostileCase {
  readonly setting: HostileSetting;
  readonly kind: HostileKind;
  readonly tls12: boolean;
  /** The table's rules look at the request's header set; these requests carry the clean one. */
  readonly headers: 'clean';
}

function casesOf(s: HostileSetting): HostileCase[] {
  return s.kinds.flatMap((kind) =>
    RELAYED.has(kind) ? [{ setting: s, kind, tls12: true, headers: 'clean' as const }]
    : [false, ...(s.tls12Too ? [true] : [])].map((tls12) => ({ setting: s, kind, tls12, headers: 'clean' as const })));
}

const caseId = (c: HostileCase): string => `${c.setting.id} ${c.kind} ${c.tls12 ? 'TLS1.2' : 'TLS1.3'}`;

// ---------------------------------------------------------------------------------------------
// Known differences that only the hostile family shows (the shared table, parityCompare.ts, applies too).
export const HOSTILE_KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

// ---------------------------------------------------------------------------------------------

/** The ten headers only (normalised like the parity suite); everything else the upstream got is not compared here. */
function tenHeaders(o: Outcome): Outcome {
  if (o.kind !== 'http' || !o.upstream) return o;
  const names = new Set<string>(H10_NAMES.map((n) => n.toLowerCase()));
  return { ...o, upstream: o.upstream.filter(([k]) => names.has(k.toLowerCase()) || k.toLowerCase() === 'host') };
}

interface Identity extends ClientIdentity {
  /** For a relayed kind: the placeholder bytes the client sends and the kind's bytes the server receives. */
  readonly swap?: { readonly from: Buffer; readonly to: Buffer };
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
function pemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** The kind's chain and key; for random-utf8-bytes a loadable copy plus the swap that restores the kind's bytes. */
function identityOf(dir: string, kind: HostileKind): Identity {
  const p = hostilePaths(dir, kind);
  const key = readFileSync(p.key);
  const chain = readFileSync(p.chain, 'utf8');
  if (!RELAYED.has(kind)) return { cert: Buffer.from(chain), key };
  const [leafPem, ...rest] = chain.split(/(?<=-----END CERTIFICATE-----\n)/);
  const leaf = derOf(leafPem!);
  // commonName (06 03 55 04 03) as a UTF8String of 64 bytes (0c 40): the 64 random bytes follow.
  const at = leaf.indexOf(Buffer.from('06035504030c40', 'hex'));
  if (at < 0) throw new Error(`${kind}: no 64-byte UTF8String CN in the leaf`);
  const from = Buffer.from('MTLS-EDGE-HOSTILE-PLACEHOLDER-'.padEnd(64, '#'));
  const start = at + 7;
  const to = Buffer.from(leaf.subarray(start, start + 64));
  const copy = Buffer.from(leaf);
  from.copy(copy, start);
  return { cert: Buffer.from(pemOf(copy) + rest.join('')), key, swap: { from, to } };
}

/** A loopback TCP relay to `port` that replaces `swap.from` with `swap.to` (same length) in what the client sends. */
async function startRelay(port: number, swap: { from: Buffer; to: Buffer }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let held = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      let buf = Buffer.concat([held, chunk]);
      for (let i = buf.indexOf(swap.from); i >= 0; i = buf.indexOf(swap.from, i + swap.to.length)) swap.to.copy(buf, i);
      // Hold back a tail that may be the start of a placeholder split across reads (only then).
      let keep = 0;
      for (let n = Math.min(swap.from.length - 1, buf.length); n > 0; n--) {
        if (buf.subarray(buf.length - n).equals(swap.from.subarray(0, n))) {
          keep = n;
          break;
        }
      }
      held = Buffer.from(buf.subarray(buf.length - keep));
      buf = buf.subarray(0, buf.length - keep);
      if (buf.length) upstream.write(buf);
    });
    client.on('end', () => upstream.end(held));
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function send(port: number, c: HostileCase, identity: Identity): Promise<Outcome> {
  const request = (p: number): Promise<Outcome> =>
    outcomeOf(() => httpsRequest(p, { identity, headers: requestHeaders('clean'), maxVersion: c.tls12 ? 'TLSv1.2' : undefined }));
  if (!identity.swap) return request(port);
  const relay = await startRelay(port, identity.swap);
  try {
    return await request(relay.port);
  } finally {
    await relay.close();
  }
}

/** One line for the results table: the client outcome and, when the upstream answered, X-SSL-Client-Verify. */
function brief(o: Outcome): string {
  if (o.kind !== 'http') return describeOutcome(o);
  const verify = o.upstream?.find(([k]) => k.toLowerCase() === 'x-ssl-client-verify')?.[1];
  return `HTTP ${o.status}${verify !== undefined ? ` verify=${verify}` : o.upstream ? ' (no X-SSL-Client-Verify)' : ''}`;
}

for (const target of parityTargets()) hostileSuite(target);

function hostileSuite(target: HaproxyTarget): void {
  const haproxyBin = target.bin;
  const title = haproxyBin ? `HAProxy ${haproxyVersion(haproxyBin)}` : target.name;

  describe(`hostile certificate family vs real HAProxy: ${title}`, function () {
    this.timeout(60_000);
    const table: KnownDifference[] = [...KNOWN_DIFFERENCES, ...HOSTILE_KNOWN_DIFFERENCES];
    let facts: Facts = { version: '' };
    let hasRootDn = false;
    let echo: EchoServer | null = null;
    let workDir = '';
    let serverPem = '';
    let haproxy: RunningHaproxy | null = null;
    let edge: TestEdge | null = null;
    const identities = new Map<HostileKind, Identity>();
    const rows: string[] = [];
    const tally = { total: 0, identical: 0, known: new Map<string, string[]>(), different: [] as string[] };

    before(async function () {
      if (!haproxyBin) {
        console.log(`    skipped (${target.name}): ${target.whyMissing}`);
        this.skip();
      }
      facts = { version: majorMinor(haproxyVersion(haproxyBin)) };
      hasRootDn = supportsFetch(haproxyBin, 'ssl_c_r_dn');
      const { dir, pki } = await testPki();
      await ensureHostile(dir);
      workDir = mkdtempSync(join(tmpdir(), 'mtls-edge-hostile-parity-'));
      serverPem = writeServerPem(workDir, pki.server.chain, pki.server.key);
      echo = await startEchoServer();
      for (const kind of HOSTILE_KINDS) identities.set(kind, identityOf(dir, kind));
    });

    afterEach(async () => {
      // Always, also when a case failed: stop this setting's HAProxy and edge.
      await haproxy?.stop();
      haproxy = null;
      await edge?.close();
      edge = null;
    });

    after(async function () {
      await echo?.close();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      if (!haproxyBin || tally.total === 0) return;
      const lines = ['', `    Hostile family, HAProxy ${facts.version} | mtls-edge (ten headers compared; ${NORMALISATIONS.length} normalisations of the parity suite):`, ...rows];
      for (const kd of knownDifferencesFor(facts, table)) {
        const hits = tally.known.get(kd.id) ?? [];
        if (hits.length) lines.push(`      [${kd.id}] ${hits.length} case(s): ${kd.what}`, `          reason: ${kd.reason}`);
      }
      for (const d of tally.different) lines.push(`      UNEXPECTED ${d.replace(/\n/g, '\n        ')}`);
      const knownCount = [...tally.known.values()].reduce((n, l) => n + l.length, 0);
      lines.push(`    HAProxy ${haproxyVersion(haproxyBin)} hostile family: ${tally.identical}/${tally.total} identical (${knownCount} known differences, ${tally.different.length} unexpected)`);
      console.log(lines.join('\n'));
    });

    for (const setting of SETTINGS) {
      it(`${setting.id}: ${setting.kinds.length === HOSTILE_KINDS.length ? 'every kind' : setting.kinds.join(', ')} — same client outcome and ten headers as HAProxy`, async function () {
        const { pki } = await testPki();
        const hsPort = await freePort();
        const cfg = renderHaproxyConfig({
          httpsPort: hsPort,
          httpPort: null,
          upstreamPort: echo!.port,
          mode: 'sanitize_set',
          tls: { serverPem, caFile: pki.rootCa.cert, verify: 'optional', ignore: setting.ignore },
          withRootCaDn: hasRootDn,
        });
        haproxy = await startHaproxy(haproxyBin!, cfg, hsPort, { dir: workDir });
        edge = await startTestEdge({ upstream: echo!.origin, forwardedClientCert: 'sanitize_set', clientAuth: 'optional', ignoreErrors: setting.ignore });
        const edgePort = edge.httpsPort;
        const results = await pool(casesOf(setting), 4, async (c) => {
          const identity = identities.get(c.kind)!;
          const [h, e] = await Promise.all([send(hsPort, c, identity), send(edgePort, c, identity)]);
          return { c, h, e, v: compare(c, tenHeaders(h), tenHeaders(e), facts, table) };
        });
        const failures: string[] = [];
        for (const { c, h, e, v } of results) {
          tally.total++;
          rows.push(`      ${caseId(c).padEnd(58)} ${brief(h)} | ${brief(e)}${v.kind === 'known' ? ` [${v.ids.join(', ')}]` : v.kind === 'different' ? ' [DIFFERENT]' : ''}`);
          if (v.kind === 'identical') tally.identical++;
          else if (v.kind === 'known') for (const id of v.ids) tally.known.set(id, [...(tally.known.get(id) ?? []), caseId(c)]);
          else {
            tally.different.push(`${caseId(c)}: ${v.detail}`);
            failures.push(`${caseId(c)}: ${v.detail}`);
          }
        }
        expect(failures, `${failures.length} case(s) differ from HAProxy in a way not in the known differences:\n${failures.join('\n\n')}`).to.deep.equal([]);
      });
    }
  });
}
