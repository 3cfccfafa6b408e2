// Who may use the admin listener: Host names (DNS rebinding) on every bind, and a token whenever the
// listener is not on loopback. The listener itself runs on 127.0.0.1 with a token here (a token,
// once set, is required on every bind); the off-loopback rules are checked on the access policy.
import { expect } from 'chai';
import http from 'node:http';
import { EventBus } from '../../src/observe/events.js';
import { createLogger } from '../../src/observe/logger.js';
import { startAdminServer, type AdminServer } from '../../src/observe/adminServer.js';
import { ADMIN_TOKEN_ENV, adminToken, createAdminAccess, isLoopbackBind } from '../../src/observe/adminAccess.js';
import { createObservability } from '../../src/observe/index.js';
import { Collect, requestEvent, statusFixture } from './fixtures.js';

const TOKEN = 'b1946ac92492d2347c6235b4d2611184';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('admin request timed out')));
  });
}

describe('observe/adminAccess', () => {
  describe('with a token (listener on 127.0.0.1)', () => {
    let admin: AdminServer | null = null;
    const log = new Collect();
    const bus = new EventBus();

    before(async () => {
      admin = await startAdminServer({ host: '127.0.0.1', port: 0, token: TOKEN, bus, status: () => statusFixture(), logger: createLogger({ format: 'json', stream: log }) });
      bus.emit(requestEvent({ id: 'secret-request' }));
    });
    after(async () => {
      await admin?.close();
    });

    it('answers 401 with WWW-Authenticate and the way in, without a token', async () => {
      for (const path of ['/', '/api/events', '/events', '/status', '/metrics']) {
        const r = await get(admin!.port, path);
        expect(r.status, path).to.equal(401);
        expect(r.headers['www-authenticate']).to.equal('Bearer realm="mtls-edge admin"');
        expect(r.body).to.include('Authorization: Bearer').and.include(ADMIN_TOKEN_ENV).and.not.include('secret-request');
      }
    });

    it('accepts Authorization: Bearer <token>, refuses a wrong one', async () => {
      const ok = await get(admin!.port, '/api/events', { authorization: `Bearer ${TOKEN}` });
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include('secret-request');
      expect((await get(admin!.port, '/api/events', { authorization: `Bearer ${TOKEN}x` })).status).to.equal(401);
      expect((await get(admin!.port, '/api/events', { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` })).status).to.equal(401);
    });

    it('turns ?token= into an HttpOnly SameSite=Strict cookie and a redirect without the token', async () => {
      const r = await get(admin!.port, `/?token=${TOKEN}&x=1`);
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/?x=1');
      const cookie = r.headers['set-cookie']?.[0] ?? '';
      expect(cookie).to.match(/^mtls_edge_admin=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
      expect(cookie, 'the cookie is derived from the token, not the token').to.not.include(TOKEN);
      const pair = cookie.split(';')[0]!;
      expect((await get(admin!.port, '/', { cookie: pair })).status).to.equal(200);
      expect((await get(admin!.port, '/api/events', { cookie: `other=1; ${pair}` })).status).to.equal(200);
      expect((await get(admin!.port, '/api/events', { cookie: pair.slice(0, -1) + '0' })).status).to.equal(401);
      expect((await get(admin!.port, `/?token=${TOKEN.slice(1)}`)).status).to.equal(401);
    });

    it('keeps the Host check: a foreign Host gets 421 even with the right token', async () => {
      const r = await get(admin!.port, '/api/events', { host: 'attacker.example', authorization: `Bearer ${TOKEN}` });
      expect(r.status).to.equal(421);
      expect(r.body).to.not.include('secret-request');
    });

    it('answers /healthz without a token (it shows only ok or starting)', async () => {
      const r = await get(admin!.port, '/healthz');
      expect([r.status, r.body]).to.deep.equal([200, 'ok\n']);
    });

    it('never writes the token to the log', () => {
      expect(log.text).to.not.include(TOKEN);
    });
  });

  describe('policy off loopback', () => {
    const req = (host: string, extra: http.IncomingHttpHeaders = {}, url = '/api/events') => ({ headers: { host, ...extra }, url });

    it('refuses to start without a token, naming the setting and the fix', async () => {
      let err: Error | null = null;
      try {
        await createObservability({ stdout: new Collect(), admin: { host: '0.0.0.0', port: 0 }, status: () => statusFixture(), defaultMetrics: false });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/admin\.host: 0\.0\.0\.0 is not loopback, and no admin token is set/);
      expect(err?.message).to.include(`export ${ADMIN_TOKEN_ENV}=$(node -e "console.log(crypto.randomBytes(24).toString('hex'))")`).and.include('admin.token');
      expect(() => createAdminAccess({ host: '::', token: 'short' })).to.throw(/at least 16 characters/);
    });

    it('needs the token on a wildcard bind (Host: attacker.example cannot read /api/events)', () => {
      const access = createAdminAccess({ host: '0.0.0.0', token: TOKEN });
      expect(access.check(req('attacker.example'), '/api/events')).to.include({ kind: 'deny', status: 421 });
      expect(access.check(req('attacker.example', { authorization: `Bearer ${TOKEN}` }), '/api/events')).to.include({ kind: 'deny', status: 421 });
      expect(access.check(req('127.0.0.1:9901'), '/api/events')).to.include({ kind: 'deny', status: 401 });
      expect(access.check(req('localhost:9901', { authorization: `Bearer ${TOKEN}` }), '/api/events')).to.deep.equal({ kind: 'allow' });
    });

    it('answers to the bound address and admin.allowed_hosts', () => {
      const bearer = { authorization: `Bearer ${TOKEN}` };
      const access = createAdminAccess({ host: '192.0.2.7', token: TOKEN, allowedHosts: ['Edge.Example:9901'] });
      expect(access.check(req('192.0.2.7:9901', bearer), '/api/events')).to.deep.equal({ kind: 'allow' });
      expect(access.check(req('edge.example', bearer), '/api/events')).to.deep.equal({ kind: 'allow' });
      expect(access.check(req('other.example', bearer), '/api/events')).to.include({ status: 421 });
    });

    const LOOPBACK: readonly [string, boolean][] = [
      ['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['::1', true], ['[::1]', true], ['::ffff:127.0.0.1', true],
      ['0.0.0.0', false], ['::', false], ['192.168.1.2', false], ['127.example', false], ['', false],
    ];
    for (const [host, loopback] of LOOPBACK) {
      it(`bind ${JSON.stringify(host)} is ${loopback ? '' : 'not '}loopback`, () => expect(isLoopbackBind(host)).to.equal(loopback));
    }

    it('takes the token from admin.token, else from the environment', () => {
      expect(adminToken('from-config-0123456', { [ADMIN_TOKEN_ENV]: 'from-env-0123456789' })).to.equal('from-config-0123456');
      expect(adminToken(undefined, { [ADMIN_TOKEN_ENV]: ' from-env-0123456789\n' })).to.equal('from-env-0123456789');
      expect(adminToken(undefined, { [ADMIN_TOKEN_ENV]: '' })).to.equal(undefined);
      expect(adminToken(undefined, {})).to.equal(undefined);
    });
  });
});
