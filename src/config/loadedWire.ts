// A loaded configuration as it crosses from the loader process to the edge (JSON with Buffers and
// Sets tagged, loaderProcess.ts: plain data, Buffers and Sets survive it; X509Certificate objects do
// not, so they travel as DER and are parsed again on arrival, which costs well under a millisecond
// per certificate).
import { X509Certificate } from 'node:crypto';
import type { LoadedConfig } from './load.js';
import type { ResolvedConfig, ResolvedTlsProfile } from './resolve.js';

type WireTlsProfile = Omit<ResolvedTlsProfile, 'serverCert' | 'trustCerts'> & { readonly serverCertDer: Buffer; readonly trustCertsDer: readonly Buffer[] };

export interface LoadedConfigWire {
  readonly config: LoadedConfig['config'];
  readonly resolved: Omit<ResolvedConfig, 'tlsProfiles'> & { readonly tlsProfiles: readonly WireTlsProfile[] };
}

export function toWire(loaded: LoadedConfig): LoadedConfigWire {
  return {
    config: loaded.config,
    resolved: {
      ...loaded.resolved,
      tlsProfiles: loaded.resolved.tlsProfiles.map(({ serverCert, trustCerts, ...rest }) => ({ ...rest, serverCertDer: serverCert.raw, trustCertsDer: trustCerts.map((c) => c.raw) })),
    },
  };
}

export function fromWire(wire: LoadedConfigWire): LoadedConfig {
  return {
    config: wire.config,
    resolved: {
      ...wire.resolved,
      tlsProfiles: wire.resolved.tlsProfiles.map(({ serverCertDer, trustCertsDer, ...rest }) => ({
        ...rest,
        serverCert: new X509Certificate(serverCertDer),
        trustCerts: trustCertsDer.map((der) => new X509Certificate(der)),
      })),
    },
  };
}
