// chai 6 ships no type declarations and @types/chai is not installed, so `import { expect } from
// 'chai'` fails strict type checking. This re-exports chai's expect under the small typed surface these
// tests use; once @types/chai is added, tests can import from 'chai' directly.
// @ts-ignore TS7016 (untyped module); ts-ignore rather than ts-expect-error so adding types later is harmless
import { expect as chaiExpect } from 'chai';

export interface Assertion {
  to: Assertion;
  be: Assertion;
  been: Assertion;
  is: Assertion;
  have: Assertion;
  deep: Assertion;
  not: Assertion;
  true: Assertion;
  false: Assertion;
  undefined: Assertion;
  empty: Assertion;
  equal(value: unknown, message?: string): Assertion;
  include(value: unknown, message?: string): Assertion;
  match(re: RegExp, message?: string): Assertion;
  lengthOf(n: number, message?: string): Assertion;
  above(n: number, message?: string): Assertion;
  below(n: number, message?: string): Assertion;
  a(type: string, message?: string): Assertion;
  property(name: string, value?: unknown): Assertion;
  members(values: readonly unknown[], message?: string): Assertion;
  oneOf(values: readonly unknown[], message?: string): Assertion;
}

export const expect = chaiExpect as (value: unknown, message?: string) => Assertion;
