// Private keys are generated in-process (libuv thread pool, so several run in parallel) and written as
// unencrypted PKCS#8 PEM, the form curl, Postman, openssl and Node all read.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa2048', 'rsa4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

const generate = promisify(generateKeyPair);
const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
const spki = { type: 'spki', format: 'pem' } as const;

export async function generateKeyPem(type: KeyType): Promise<string> {
  switch (type) {
    case 'ec-p256':
    case 'ec-p384': {
      const { privateKey } = await generate('ec', {
        namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384',
        publicKeyEncoding: spki,
        privateKeyEncoding: pkcs8,
      });
      return privateKey;
    }
    case 'rsa2048':
    case 'rsa4096': {
      const { privateKey } = await generate('rsa', {
        modulusLength: type === 'rsa2048' ? 2048 : 4096,
        publicKeyEncoding: spki,
        privateKeyEncoding: pkcs8,
      });
      return privateKey;
    }
  }
}

export function isKeyType(value: string): value is KeyType {
  return (KEY_TYPES as readonly string[]).includes(value);
}
