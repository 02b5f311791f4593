// TLS for every Kiln server and client: certificates from PEM files that grpc-js re-reads (rotation without a
// restart), client certificates required when a client CA is given (mTLS), and a call's verified peer certificate.
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type PeerCertificate as NodePeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { KilnError } from '@kiln/errors';

/** A server's TLS: its certificate (chain) and key, and the CA its clients' certificates must be signed by. */
export interface ServerTlsSettings {
  cert: string;
  key: string;
  /** Set: every client must present a certificate signed by this CA (mTLS); unset: none is asked for. */
  clientCa?: string;
  /** How often the files are read again; a changed certificate serves from the next handshake on. */
  reloadMs: number;
}

/** A client's TLS: the CA it trusts for the server's certificate, and the certificate it presents (mTLS). */
export interface ClientTlsSettings {
  /** PEM file of the CA(s) trusted for the server's certificate; unset: the system's roots. */
  ca?: string;
  /** Client certificate and key, sent when the server asks for one. */
  cert?: string;
  key?: string;
  /** How often the files are read again (a long-lived service channel picks up a rotated client certificate). */
  reloadMs?: number;
}

const CLIENT_RELOAD_MS = 60_000;

/** grpc-js's credentials for a server, with what startServer waits for before it says the server is listening. */
export interface ServerCredentialsWithReady {
  credentials: grpc.ServerCredentials;
  /** Resolves once grpc-js has the files (read asynchronously by its watcher after bind, connections are dropped
   * until then). Call it after bindAsync. */
  loaded(): Promise<void>;
}

export function serverCredentials(settings: ServerTlsSettings | undefined): ServerCredentialsWithReady {
  if (!settings) return { credentials: grpc.ServerCredentials.createInsecure(), loaded: async () => {} };
  // grpc-js would drop every connection, silently, on files it cannot use: a bad setting fails the start instead.
  checkFiles(settings.cert, settings.key, settings.clientCa);
  // One watcher for the three files, so that a certificate and its key are read together.
  const files = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: settings.cert,
    privateKeyFile: settings.key,
    caCertificateFile: settings.clientCa,
    refreshIntervalMs: settings.reloadMs,
  });
  // grpc-js's declaration names the first two parameters the other way round; its code takes the identity first.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(files, settings.clientCa ? files : null, !!settings.clientCa);
  return { credentials, loaded: () => firstRead(files, !!settings.clientCa) };
}

/** grpc-js's credentials for a client: plaintext without settings. */
export function channelCredentials(settings: ClientTlsSettings | undefined): grpc.ChannelCredentials {
  if (!settings) return grpc.credentials.createInsecure();
  if (!settings.cert !== !settings.key) throw new KilnError('INVALID_ARGUMENT', 'a client certificate needs its key, and a key its certificate');
  checkFiles(settings.cert, settings.key, settings.ca);
  const reloadMs = settings.reloadMs ?? CLIENT_RELOAD_MS;
  const ca = settings.ca ? new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: settings.ca, refreshIntervalMs: reloadMs }) : SYSTEM_ROOTS;
  const identity = settings.cert && settings.key
    ? new grpc.experimental.FileWatcherCertificateProvider({ certificateFile: settings.cert, privateKeyFile: settings.key, refreshIntervalMs: reloadMs })
    : null;
  return grpc.experimental.createCertificateProviderChannelCredentials(ca, identity);
}

/** The system's roots as a certificate provider (grpc-js's provider credentials take the CA only from one). */
const SYSTEM_ROOTS: grpc.experimental.CertificateProvider = {
  addCaCertificateListener: (listener) => process.nextTick(listener, { caCertificate: Buffer.from(rootCertificates.join('\n')) }),
  removeCaCertificateListener: () => {},
  addIdentityCertificateListener: () => {},
  removeIdentityCertificateListener: () => {},
};

/** Reads the files and makes a TLS context of them: a missing file, a bad PEM or a key that is not the certificate's
 * throws a KilnError naming the file. */
function checkFiles(cert: string | undefined, key: string | undefined, ca: string | undefined): void {
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new KilnError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const pem = { cert: cert ? read(cert) : undefined, key: key ? read(key) : undefined, ca: ca ? read(ca) : undefined };
  try {
    createSecureContext(pem);
  } catch (err) {
    throw new KilnError('INVALID_ARGUMENT', `TLS files ${[cert, key, ca].filter(Boolean).join(', ')} cannot be used: ${(err as Error).message}`);
  }
}

/** Resolves at the provider's first read. Listeners are called in the order they were added (the server's, at bind,
 * before this one's), identity before CA. */
function firstRead(files: grpc.experimental.CertificateProvider, withCa: boolean): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      files.removeIdentityCertificateListener(onIdentity);
      if (withCa) files.removeCaCertificateListener(onCa);
      resolve();
    };
    const onIdentity = () => {
      if (!withCa) done();
    };
    const onCa = () => done();
    files.addIdentityCertificateListener(onIdentity);
    if (withCa) files.addCaCertificateListener(onCa);
  });
}

/** A call's client certificate, verified against the server's client CA (mTLS). */
export interface PeerCertificate {
  /** The subject's common name ('' without one). */
  readonly commonName: string;
  /** subjectAltName entries by kind. */
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  /** SHA-256 fingerprint, as node prints it (AB:CD:...). */
  readonly fingerprint256: string;
  /** When it expires. */
  readonly validTo: Date;
}

/**
 * The verified client certificate of a call (grpc-js's auth context: only a certificate that passed verification
 * against KILN_TLS_CLIENT_CA is in it); undefined on plaintext, or TLS without a client certificate.
 */
export function peerCertificateOf(call: { getAuthContext(): { sslPeerCertificate?: NodePeerCertificate } | null }): PeerCertificate | undefined {
  const peer = call.getAuthContext()?.sslPeerCertificate;
  return peer ? describePeer(peer) : undefined;
}

export function describePeer(peer: NodePeerCertificate): PeerCertificate {
  const cn = peer.subject?.CN as string | string[] | undefined;
  const names = subjectAltNames(peer.subjectaltname ?? '');
  return {
    commonName: (Array.isArray(cn) ? cn[0] : cn) ?? '',
    dnsNames: names.filter((n) => n.kind === 'DNS').map((n) => n.value),
    uris: names.filter((n) => n.kind === 'URI').map((n) => n.value),
    ipAddresses: names.filter((n) => n.kind === 'IP Address').map((n) => n.value),
    fingerprint256: peer.fingerprint256,
    validTo: new Date(peer.valid_to),
  };
}

/** Node's subjectaltname text: `KIND:value` entries joined by ", ", a value with a comma or quote JSON-quoted. */
export function subjectAltNames(text: string): Array<{ kind: string; value: string }> {
  const names: Array<{ kind: string; value: string }> = [];
  for (const m of text.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    names.push({ kind: m[1], value: m[2].startsWith('"') ? JSON.parse(m[2]) : m[2] });
  }
  return names;
}
