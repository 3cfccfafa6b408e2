// chai 6 ships no type declarations and @types/chai is not installed: this gives chai's expect the
// typed surface the observe tests use. Drop it for `import { expect } from 'chai'` once types exist.
// @ts-ignore TS7016 (untyped module); ts-ignore so that adding types later is harmless
import { expect as chaiExpect } from 'chai';

export interface Assertion {
  to: Assertion;
  be: Assertion;
  been: Assertion;
  is: Assertion;
  at: Assertion;
  have: Assertion;
  deep: Assertion;
  not: Assertion;
  true: Assertion;
  false: Assertion;
  null: Assertion;
  undefined: Assertion;
  empty: Assertion;
  equal(value: unknown, message?: string): Assertion;
  include(value: unknown, message?: string): Assertion;
  contain(value: unknown, message?: string): Assertion;
  match(re: RegExp, message?: string): Assertion;
  length(n: number, message?: string): Assertion;
  lengthOf(n: number, message?: string): Assertion;
  above(n: number, message?: string): Assertion;
  below(n: number, message?: string): Assertion;
  least(n: number, message?: string): Assertion;
  most(n: number, message?: string): Assertion;
  within(lo: number, hi: number, message?: string): Assertion;
  a(type: string, message?: string): Assertion;
  property(name: string, value?: unknown): Assertion;
  members(values: readonly unknown[], message?: string): Assertion;
  keys(...keys: string[]): Assertion;
  throw(re?: RegExp | string): Assertion;
}

export const expect = chaiExpect as (value: unknown, message?: string) => Assertion;
