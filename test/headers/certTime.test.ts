import { haproxyTime, type CertTimeTag } from '../../src/headers/certTime.js';
import { expect } from 'chai';

// docs/edge-behaviour.md §6 NotBefore/NotAfter, plus HAProxy's length guards (ssl_sock_get_time).
const CASES: [tag: CertTimeTag, text: string, expected: string, why: string][] = [
  ['utc', '240101000000Z', '240101000000Z', 'UTCTime 2024: verbatim'],
  ['utc', '491231235959Z', '491231235959Z', 'UTCTime 2049: verbatim'],
  ['utc', '500101000000Z', '', 'UTCTime 1950: first digit 5 → empty'],
  ['utc', '991231235959Z', '', 'UTCTime 1999 → empty'],
  ['utc', '0001010000Z', '0001010000Z', 'UTCTime without seconds (10 chars) is still copied'],
  ['utc', '000101000', '', 'shorter than 10 → empty'],
  ['utc', '240101000000+0100', '240101000000+0100', 'offset form copied as encoded'],
  ['generalized', '20600101000000Z', '600101000000Z', 'GeneralizedTime 2060 → without "20"'],
  ['generalized', '20240101000000Z', '240101000000Z', 'GeneralizedTime 2024 (non-RFC but legal)'],
  ['generalized', '99991231235959Z', '', 'GeneralizedTime 9999 → empty'],
  ['generalized', '19990101000000Z', '', 'GeneralizedTime 1999 → empty'],
  ['generalized', '21000101000000Z', '', 'GeneralizedTime 2100 → empty'],
  ['generalized', '20600101000000.5Z', '600101000000.5Z', 'fraction kept as encoded'],
  ['generalized', '20600101000', '', 'shorter than 12 → empty'],
  ['generalized', '206001010000', '6001010000', 'exactly 12 chars'],
];

describe('headers/certTime', () => {
  for (const [tag, text, expected, why] of CASES) {
    it(`${tag} ${text}: ${why}`, () => {
      expect(haproxyTime(tag, text)).to.equal(expected);
    });
  }
});
