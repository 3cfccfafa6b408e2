import {
  FORWARDED_CLIENT_CERT_MODES,
  MODE_TABLE,
  headerPolicy,
  parseForwardedClientCertMode,
  type DeleteRule,
} from '../../src/headers/modeTable.js';
import { expect } from 'chai';

// docs/edge-behaviour.md §4, the mode table, typed out as it reads there.
// prettier-ignore
const SPEC_TABLE = `
| always_forward_only           | any | never             | never |
| forward_only                  | off | always            | never |
| forward_only                  | on  | when no cert used | never |
| sanitize_set                  | off | always            | never |
| sanitize_set                  | on  | always            | when cert used |
| forward_only_if_route_service | off | unless signature  | never |
| forward_only_if_route_service | on  | unless signature  | when cert used |
`;

const DELETE_WORDS: Record<string, DeleteRule> = {
  never: 'never',
  always: 'always',
  'when no cert used': 'when_no_cert_used',
  'unless signature': 'unless_signature',
};

const specRows = SPEC_TABLE.trim()
  .split('\n')
  .map((line) => line.split('|').slice(1, -1).map((c) => c.trim()))
  .map(([mode, auth, del, set]) => ({
    mode: mode!,
    clientAuth: auth === 'any' ? ('*' as const) : auth === 'on',
    delete: DELETE_WORDS[del!]!,
    set: set === 'when cert used',
  }));

describe('headers/modeTable', () => {
  it('MODE_TABLE is the spec table, row for row', () => {
    expect(MODE_TABLE.map((r) => ({ ...r }))).to.deep.equal(specRows);
  });

  for (const row of specRows) {
    const auths = row.clientAuth === '*' ? [false, true] : [row.clientAuth];
    for (const on of auths) {
      it(`${row.mode}, client auth ${on ? 'on' : 'off'} → delete ${row.delete}, set ${row.set}`, () => {
        expect(headerPolicy(parseForwardedClientCertMode(row.mode), on)).to.deep.equal({
          delete: row.delete,
          set: row.set,
        });
      });
    }
  }

  it('every mode × client auth has exactly one row', () => {
    for (const mode of FORWARDED_CLIENT_CERT_MODES) {
      for (const on of [false, true]) {
        const rows = MODE_TABLE.filter((r) => r.mode === mode && (r.clientAuth === '*' || r.clientAuth === on));
        expect(rows, `${mode}/${on}`).to.lengthOf(1);
      }
    }
  });

  it('headerPolicy returns shared frozen objects (no allocation per request)', () => {
    const a = headerPolicy('sanitize_set', true);
    expect(a === headerPolicy('sanitize_set', true)).to.equal(true);
    expect(Object.isFrozen(a)).to.equal(true);
  });

  const NAMES: [string, string][] = [
    ['sanitize_set', 'sanitize_set'],
    ['SANITIZE_SET', 'sanitize_set'],
    ['Forward_Only_If_Route_Service', 'forward_only_if_route_service'],
    ['always_FORWARD_only', 'always_forward_only'],
    ['forward_only', 'forward_only'],
  ];
  for (const [input, mode] of NAMES) {
    it(`parses ${JSON.stringify(input)} case-insensitively`, () => {
      expect(parseForwardedClientCertMode(input)).to.equal(mode);
    });
  }

  for (const bad of ['', 'sanitize-set', 'forward', 'always_forward', ' sanitize_set', 'sanitize_set ']) {
    it(`rejects ${JSON.stringify(bad)} naming the value and the valid modes`, () => {
      let message = '';
      try {
        parseForwardedClientCertMode(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).to.include(JSON.stringify(bad));
      for (const m of FORWARDED_CLIENT_CERT_MODES) expect(message).to.include(m);
    });
  }
});
