// The fault boundaries themselves: an exception while the edge handles one connection ends that
// connection with one `connection-error` event (stage, stack) and never the process. The fault is
// injected through a collaborator the edge is given anyway (its event sink), so the real TLS front,
// HTTP server and pipeline run around it.
import tls from 'node:tls';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge.js';
import { guarded } from '../../src/edge/faultBoundary.js';
import type { ConnectionErrorEvent, EdgeEvent, EventSink } from '../../src/observe/events.js';
import { clientIdentity, httpsRequest, received, testPki, type ClientIdentity } from '../support/edgeHarness.js';

const INJECTED = 'injected fault';

/** Records every event; throws (once per connection) on the kind under test, as a faulty sink would. */
function throwingSink(kind: EdgeEvent['kind'], seen: EdgeEvent[]): EventSink {
  return {
    emit(e) {
      seen.push(e);
      if (e.kind === kind) throw new Error(`${INJECTED} on ${kind}`);
    },
  };
}

/** Sends one request and reports what the client saw: a status, or how the connection ended. */
function oneRequest(port: number, identity: ClientIdentity | undefined): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, cert: identity?.cert, key: identity?.key });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timed out');
    }, 5000);
    let data = '';
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 'closed without a response');
    });
  });
}

interface Row {
  readonly throwsOn: EdgeEvent['kind'];
  readonly client: 'untrusted' | 'valid';
  readonly stage: ConnectionErrorEvent['stage'];
  /** What the faulting client sees: the connection is ended, with or without the answer already sent. */
  readonly clientSees: readonly string[];
}

const ROWS: readonly Row[] = [
  // The rejection event is built and emitted inside the handshake's callback.
  { throwsOn: 'handshake-rejected', client: 'untrusted', stage: 'handshake', clientSees: ['closed without a response'] },
  // The request event is emitted when the response has finished: the answer may already be out.
  { throwsOn: 'request', client: 'valid', stage: 'response', clientSees: ['200'] },
];

describe('edge/faultBoundary: a fault ends one connection, never the process', function () {
  this.timeout(20_000);

  for (const row of ROWS) {
    it(`a throw in the ${row.throwsOn} event (${row.client} client) → stage ${row.stage}, the edge serves the next client`, async () => {
      const { dir } = await testPki();
      const loaded = await loadConfig({ overrides: { httpsPort: 0, httpPort: -1, bind: '127.0.0.1', pkiDir: dir, admin: false } });
      const seen: EdgeEvent[] = [];
      let edge: RunningEdge | undefined;
      try {
        edge = await startEdge(loaded.config, loaded.resolved, throwingSink(row.throwsOn, seen));
        const identity = await clientIdentity(row.client === 'valid' ? 'valid' : 'self-signed');
        expect(row.clientSees).to.include(await oneRequest(edge.httpsPort, identity));
        await new Promise((r) => setTimeout(r, 50));
        const faults = seen.filter((e): e is ConnectionErrorEvent => e.kind === 'connection-error');
        expect(faults).to.have.length(1);
        expect(faults[0]).to.include({ listener: 'https', stage: row.stage, clientAddress: '127.0.0.1', message: `${INJECTED} on ${row.throwsOn}` });
        expect(faults[0]!.stack).to.contain(INJECTED).and.to.contain('faultBoundary.test.js');
        // Another client, on a new connection, is served (its own event throws again only for the same kind).
        if (row.throwsOn !== 'request') {
          const reply = await httpsRequest(edge.httpsPort, { identity: await clientIdentity('valid') });
          expect(reply.status).to.equal(200);
          expect(received(reply, 'X-SSL-Client-Verify')).to.deep.equal(['0']);
        } else {
          expect(await oneRequest(edge.httpsPort, await clientIdentity('valid'))).to.equal('200');
        }
      } finally {
        await edge?.close(1000);
      }
    });
  }

  describe('guarded()', () => {
    const where = { listener: 'http', stage: 'request', clientAddress: '192.0.2.1' } as const;
    const table: readonly { name: string; thrown: unknown; message: RegExp; stack: RegExp }[] = [
      { name: 'an Error', thrown: new TypeError("Cannot read properties of undefined (reading 'split')"), message: /reading 'split'/, stack: /TypeError/ },
      { name: 'a string', thrown: 'plain text', message: /^non-Error thrown: plain text$/, stack: /^$/ },
      { name: 'an object whose toString throws', thrown: { toString: () => { throw new Error('no'); } }, message: /cannot be shown/, stack: /^$/ },
    ];
    for (const t of table) {
      it(`${t.name}: the connection's sockets are destroyed, one event reports it, nothing is rethrown`, () => {
        const events: EdgeEvent[] = [];
        const destroyed: string[] = [];
        const handler = guarded(
          { emit: (e) => events.push(e) },
          (name: string, _unused: null) => ({ where, sockets: [{ destroy: () => destroyed.push(name) }, null] }),
          () => {
            throw t.thrown;
          },
        );
        expect(() => handler('socket-a', null)).to.not.throw();
        expect(destroyed).to.deep.equal(['socket-a']);
        expect(events).to.have.length(1);
        const e = events[0] as ConnectionErrorEvent;
        expect(e).to.include({ kind: 'connection-error', listener: 'http', stage: 'request', clientAddress: '192.0.2.1' });
        expect(e.message).to.match(t.message);
        expect(e.stack).to.match(t.stack);
      });
    }
  });
});
