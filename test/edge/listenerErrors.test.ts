// A listener's errors: one line per error code per interval, then the count held back.
import { expect } from 'chai';
import { listenerErrorReporter, LISTENER_ERROR_INTERVAL_MS } from '../../src/edge/listenerErrors.js';
import type { EdgeEvent } from '../../src/observe/events.js';

describe('listener errors', () => {
  it('logs a listener error once per code per interval, then with the count held back', () => {
    const lines: string[] = [];
    let now = 1_000;
    const report = listenerErrorReporter({ emit: (e: EdgeEvent) => lines.push(e.kind === 'lifecycle' ? `${e.level} ${e.message}` : e.kind) }, 'HTTPS', () => now);
    const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
    for (let i = 0; i < 5; i++) report(emfile);
    report(Object.assign(new Error('accept ECONNABORTED'), { code: 'ECONNABORTED' }));
    now += LISTENER_ERROR_INTERVAL_MS;
    report(emfile);
    expect(lines).to.deep.equal([
      'error HTTPS listener error: accept EMFILE',
      'error HTTPS listener error: accept ECONNABORTED',
      'error HTTPS listener error: accept EMFILE (4 more since the last line)',
    ]);
  });
});
