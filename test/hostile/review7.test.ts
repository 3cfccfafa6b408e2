// Hostile review 7: the admin listener's token check with odd request targets. Real admin server on
// loopback with a token set, raw clients; each request is bounded in time and its socket destroyed.
import { expect } from 'chai';
import net from 'node:net';
import { EventBus } from '../../src/observe/events.js';
import { createLogger } from '../../src/observe/logger.js';
import { startAdminServer, type AdminServer } from '../../src/observe/adminServer.js';
import { Collect, statusFixture } from '../observe/fixtures.js';

/** Sends `bytes` on a fresh connection; the status line and the Location header of the answer. */
function exchange(port: number, bytes: string): Promise<{ status: string; location: string | null }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ status: out.split('\r\n')[0] ?? '', location: /\r\nlocation: ([^\r]*)/i.exec(out)?.[1] ?? null });
    };
    const timer = setTimeout(done, 2000);
    s.on('close', done);
  });
}

describe('hostile review 7: admin token check with odd request targets', function () {
  this.timeout(20_000);
  const token = 'review7-admin-token-0123456789';
  let admin: AdminServer | null = null;
  let log: Collect;
  beforeEach(async () => {
    log = new Collect();
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, bus: new EventBus(), token, status: () => statusFixture({}), logger: createLogger({ format: 'json', stream: log }) });
  });
  afterEach(async () => {
    await admin?.close();
    admin = null;
  });

  // `new URL('//[', base)` threw: the request ended in a 500 and an error line with a stack trace,
  // for any client that can reach the listener (no token needed).
  it('a request target that is no URL path (//[) gets 400, and nothing is logged as an error', async () => {
    const r = await exchange(admin!.port, 'GET //[ HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect({ status: r.status, errors: log.lines.filter((l) => l.includes('"level":"error"')) }).to.deep.equal({ status: 'HTTP/1.1 400 Bad Request', errors: [] });
  });

  // The redirect after ?token= kept the path as URL normalised it: /.//evil.example/x became
  // `Location: //evil.example/x`, which a browser follows to another host.
  it('the redirect after ?token= stays on the admin listener (/.//host/x gives no protocol-relative Location)', async () => {
    const r = await exchange(admin!.port, `GET /.//evil.example/x?token=${token}&a=1 HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect(r.status).to.equal('HTTP/1.1 303 See Other');
    expect(r.location, 'Location').to.match(/^\/(?![/\\])/);
  });
});
