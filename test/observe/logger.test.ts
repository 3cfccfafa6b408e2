import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/observe/logger.js';
import { createLogSink, describeRejection } from '../../src/observe/logSink.js';
import { Collect, rejectedEvent, requestEvent, T0 } from './fixtures.js';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

const loggerModule = fileURLToPath(new URL('../../src/observe/logger.js', import.meta.url));

describe('observe/logger', () => {
  it('loads winston only at the first line that passes the level, and keeps the order of lines', async () => {
    // A fresh process: this test file's own imports must not have loaded winston already.
    const script = `import { createRequire } from 'node:module';
const { createLogger } = await import(${JSON.stringify(loggerModule)});
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/winston/'));
const log = createLogger({ format: 'json', level: 'warn' });
log.info('dropped');
log.debug('dropped too');
const before = loaded();
log.warn('first');
log.error('second');
log.warn('third');
await log.close();
process.stderr.write(JSON.stringify({ before, after: loaded() }));`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve({ stdout, stderr }))),
    );
    expect(JSON.parse(stderr)).to.deep.equal({ before: false, after: true });
    expect(stdout.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).to.deep.equal(['first', 'second', 'third']);
  });

  it('writes JSON lines with time, level, msg and the fields', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'json', stream: out });
    log.info('listening', { listener: 'https', port: 8443 });
    await log.close();
    const [line] = out.lines;
    const obj = JSON.parse(line ?? '') as Record<string, unknown>;
    expect(obj).to.include({ level: 'info', msg: 'listening', listener: 'https', port: 8443 });
    expect(obj['time']).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('chooses JSON when the stream is not a TTY and pretty when it is', async () => {
    const pipe = new Collect();
    expect(createLogger({ stream: pipe }).format).to.equal('json');
    const tty = new Collect();
    tty.isTTY = true;
    const log = createLogger({ stream: tty });
    expect(log.format).to.equal('pretty');
    log.warn('trust list expires soon', { file: 'trust.pem', days: 12 });
    await log.close();
    expect(tty.text).to.match(/WARN.*trust list expires soon file=trust\.pem days=12/);
  });

  it('honours the level and rejects unknown levels', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'json', level: 'warn', stream: out });
    log.info('dropped');
    log.debug('dropped');
    log.error('kept');
    expect(log.isLevelEnabled('debug')).to.equal(false);
    await log.close();
    expect(out.lines).to.have.length(1);
    expect(() => createLogger({ level: 'verbose', stream: out })).to.throw(/error, warn, info, debug/);
  });

  it('keeps a field named level or message from clobbering the line', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'json', stream: out });
    log.info('real', { message: 'fake', level: 'x' });
    await log.close();
    const obj = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(obj['msg']).to.equal('real');
  });
});

describe('observe/logSink', () => {
  it('logs one warn line per rejected handshake with code, name, subject, issuer and hint', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'json', stream: out });
    createLogSink(log).emit(rejectedEvent());
    await log.close();
    expect(out.lines).to.have.length(1);
    const obj = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(obj).to.include({
      level: 'warn',
      event: 'handshake-rejected',
      client: '203.0.113.5',
      sni: 'api.acme.test',
      subject: 'CN=dev-client,O=Acme,C=DE',
      issuer: 'CN=Acme Issuing CA 1,O=Acme,C=DE',
      code: 10,
      codeName: 'X509_V_ERR_CERT_HAS_EXPIRED',
      alert: 'certificate_expired',
    });
    expect(obj['hint']).to.match(/renew/);
    expect(obj['msg']).to.contain('X509_V_ERR_CERT_HAS_EXPIRED (10)');
  });

  it('names a missing certificate NO_CERTIFICATE with the checklist hint', () => {
    const line = describeRejection(rejectedEvent({ cert: null, verify: null, alert: 'certificate_required', reason: 'no client certificate presented', hint: '' }));
    expect(line.fields).to.include({ codeName: 'NO_CERTIFICATE', code: null, subject: null });
    expect(String(line.fields['hint'])).to.match(/curl --cert/);
  });

  it('reads pretty on a terminal', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'pretty', stream: out });
    createLogSink(log).emit(rejectedEvent({ verify: { code: 18, name: 'X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT', hint: 'Self-signed certificates are refused: get it issued by a CA in the trust list.' }, hint: '' }));
    await log.close();
    expect(out.text).to.match(/WARN  TLS handshake rejected from 203\.0\.113\.5 for api\.acme\.test: X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT \(18\)/);
    expect(out.text).to.contain('hint="Self-signed certificates are refused');
  });

  it('logs lifecycle events at their level, edge-answered requests at warn, others only at debug', async () => {
    const out = new Collect();
    const log = createLogger({ format: 'json', stream: out });
    const sink = createLogSink(log);
    sink.emit({ kind: 'lifecycle', time: T0, level: 'error', message: 'reload failed', fields: { file: 'edge.yaml' } });
    sink.emit(requestEvent());
    sink.emit(requestEvent({ status: 502, error: 'connect ECONNREFUSED 127.0.0.1:8081', upstream: '127.0.0.1:8081' }));
    await log.close();
    await settle();
    expect(out.lines.map((l) => (JSON.parse(l) as { level: string }).level)).to.deep.equal(['error', 'warn']);
  });
});
