// chai 6 ships no type declarations (and @types/chai is not installed): a typed view of the part
// of chai's expect these tests use. Once types exist, tests can import from 'chai' directly.
// @ts-ignore TS7016 untyped module; ts-ignore (not ts-expect-error) so adding types later is harmless
import { expect as chaiExpect } from 'chai';

export interface Assertion {
  to: Assertion;
  be: Assertion;
  is: Assertion;
  have: Assertion;
  deep: Assertion;
  not: Assertion;
  true: Assertion;
  false: Assertion;
  null: Assertion;
  empty: Assertion;
  equal(value: unknown, message?: string): Assertion;
  include(value: unknown, message?: string): Assertion;
  match(re: RegExp, message?: string): Assertion;
  lengthOf(n: number, message?: string): Assertion;
  below(n: number, message?: string): Assertion;
  throw(match?: RegExp | string, message?: string): Assertion;
  members(values: readonly unknown[], message?: string): Assertion;
}

export const expect = chaiExpect as unknown as (value: unknown, message?: string) => Assertion;
