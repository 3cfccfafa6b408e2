// The escaping functions, one per output kind, as tables: each unsafe character class and the form it
// takes, plus properties: no output carries an unsafe character raw, and JSON keeps its value.
import { expect } from 'chai';
import fc from 'fast-check';
import { escapeAccessLog, escapeJsonText, escapeText, hasUnsafeChars, safeJson } from '../../src/observe/escape.js';
import { escapeHtml } from '../../src/observe/html.js';
import { prettyFields } from '../../src/observe/logger.js';

const RAW_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

const TABLE: readonly { input: string; text: string; json: string; access: string }[] = [
  { input: 'plain.example', text: 'plain.example', json: '"plain.example"', access: 'plain.example' },
  { input: 'a\r\nb', text: 'a\\x0D\\x0Ab', json: '"a\\r\\nb"', access: 'a#0D#0Ab' },
  { input: '\x1b[31mred', text: '\\x1B[31mred', json: '"\\u001b[31mred"', access: '#1B[31mred' },
  { input: 'nul\x00', text: 'nul\\x00', json: '"nul\\u0000"', access: 'nul#00' },
  { input: 'del\x7f', text: 'del\\x7F', json: '"del\\u007f"', access: 'del#7F' },
  { input: 'nel\u0085', text: 'nel\\x85', json: '"nel\\u0085"', access: 'nel#85' },
  { input: 'csi\u009b', text: 'csi\\x9B', json: '"csi\\u009b"', access: 'csi#9B' },
  { input: 'ls\u2028ps\u2029', text: 'ls\\u{2028}ps\\u{2029}', json: '"ls\\u2028ps\\u2029"', access: 'ls#E2#80#A8ps#E2#80#A9' },
  { input: 'rlo\u202eoff', text: 'rlo\\u{202E}off', json: '"rlo\\u202eoff"', access: 'rlo#E2#80#AEoff' },
  { input: 'lre\u202a', text: 'lre\\u{202A}', json: '"lre\\u202a"', access: 'lre#E2#80#AA' },
  { input: 'iso\u2066x\u2069', text: 'iso\\u{2066}x\\u{2069}', json: '"iso\\u2066x\\u2069"', access: 'iso#E2#81#A6x#E2#81#A9' },
  { input: 'back\\slash', text: 'back\\\\slash', json: '"back\\\\slash"', access: 'back#5Cslash' },
  { input: 'quote"hash#', text: 'quote"hash#', json: '"quote\\"hash#"', access: 'quote#22hash#23' },
  { input: 'Víkî Café ✓', text: 'Víkî Café ✓', json: '"Víkî Café ✓"', access: 'Víkî Café ✓' },
];

describe('observe/escape', () => {
  for (const row of TABLE) {
    it(`${JSON.stringify(row.input)} → text ${row.text}, JSON ${row.json}, access log ${row.access}`, () => {
      expect(escapeText(row.input)).to.equal(row.text);
      expect(safeJson(row.input)).to.equal(row.json);
      expect(escapeAccessLog(row.input)).to.equal(row.access);
    });
  }

  it('HTML shows the same escapes and keeps tab and newline as layout', () => {
    expect(escapeHtml('<b>\x1b[31m\u202e</b>\tx\ny')).to.equal('&lt;b&gt;\\x1B[31m\\u{202E}&lt;/b&gt;\tx\ny');
  });

  it('pretty fields quote and escape values and keys', () => {
    expect(prettyFields({ sni: 'a\x1b[2Jb', path: '/x y', ok: 'plain', 'k\ney': 1 })).to.equal(' sni="a\\u001b[2Jb" path="/x y" ok=plain k\\x0Aey=1');
    expect(prettyFields({ rtl: 'x\u202ey' })).to.equal(' rtl="x\\u202ey"');
  });

  it('no output kind carries an unsafe character raw; JSON keeps the value (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        for (const out of [escapeText(s), escapeAccessLog(s), safeJson(s), escapeJsonText(JSON.stringify({ s }, null, 2))]) {
          expect(out.replace(/\n/g, ''), JSON.stringify(s)).to.not.match(RAW_UNSAFE);
        }
        expect(JSON.parse(safeJson(s))).to.equal(s);
        expect(hasUnsafeChars(escapeText(s))).to.equal(false);
      }),
      { numRuns: 300 },
    );
  });
});
