// @peculiar/x509 resolves its ASN.1 and crypto providers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import * as x509 from '@peculiar/x509';
import { type CertKey, generatedTlsLayout, type TlsFiles } from './tls-render.js';

/** ECDSA P-256: accepted by nats-server (Go) and Node's TLS alike, and made in milliseconds (RSA takes seconds). */
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const CA_DAYS = 3650;
export const CERT_DAYS = 397;
/** A rerun replaces certificates that expire sooner than this; running `mmm creds` monthly keeps every link up. */
export const RENEW_BEFORE_DAYS = 30;

const subtle = webcrypto.subtle;
// Node's WebCrypto, typed as the library's provider (the build has no DOM lib, so no global `Crypto` type).
x509.cryptoProvider.set(webcrypto as never);

/** A certificate or its key cannot be made or read. */
export class TlsIssueError extends Error {
  override readonly name = 'TlsIssueError';
}

export interface IssueOptions {
  /** Host names and addresses of every hub node: one certificate serves client, leafnode and cluster listeners. */
  hubHosts: string[];
  /** Host names and addresses the agents reach their leaf at. */
  leafHosts: string[];
  sites: string[];
  /** Users that get client certificates (set when client ports require them). */
  clientUsers: string[];
  /** Where each file goes (generatedTlsLayout). */
  layout: TlsFiles;
}

export interface IssueResult {
  issued: string[];
  kept: string[];
}

/** Loopback names are always in server certificates: agents and hub services usually talk to a server on their host. */
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

interface Issuer {
  cert: x509.X509Certificate;
  key: webcrypto.CryptoKey;
  pem: string;
}

function writeFile(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Positive 128-bit serial (the top bit clear: DER integers are signed). */
function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return b.toString('hex');
}

function sanNames(hosts: string[]): x509.JsonGeneralName[] {
  return [...new Set(hosts)].map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }));
}

/** A SAN list in one normal form (the library's own reading of the encoded names), for comparing certificates. */
function sanKey(ext: x509.SubjectAlternativeNameExtension | null): string {
  return (ext?.names.toJSON() ?? [])
    .map((n) => `${n.type}:${n.value}`)
    .sort()
    .join(',');
}

async function loadOrMakeCa(certFile: string, issued: string[], kept: string[]): Promise<Issuer> {
  const keyFile = certFile.replace(/\.pem$/, '.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    try {
      const pem = readFileSync(certFile, 'utf8');
      const cert = new x509.X509Certificate(pem);
      if (cert.notAfter.getTime() - Date.now() > RENEW_BEFORE_DAYS * DAY) {
        const der = x509.PemConverter.decodeFirst(readFileSync(keyFile, 'utf8'));
        const key = await subtle.importKey('pkcs8', der, ALG, false, ['sign']);
        kept.push(certFile);
        return { cert, key, pem };
      }
    } catch (err) {
      throw new TlsIssueError(`cannot read the CA ${certFile} (delete it and its .key to make a new one)`, {
        cause: err,
      });
    }
  }
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=MeshyMcMapface NATS CA',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString('pem');
  writeFile(keyFile, await exportKey(keys.privateKey), 0o600);
  writeFile(certFile, `${pem}\n`, 0o644);
  issued.push(certFile);
  return { cert, key: keys.privateKey, pem };
}

/** Whether an existing certificate can stay: signed by this CA, the wanted names and use, not about to expire. */
function stillGood(file: string, ca: Issuer, hosts: string[], server: boolean): boolean {
  try {
    const pem = readFileSync(file, 'utf8');
    const cert = new NodeX509(pem);
    if (!cert.verify(new NodeX509(ca.pem).publicKey)) return false;
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_DAYS * DAY) return false;
    if (server !== cert.keyUsage?.includes(x509.ExtendedKeyUsage.serverAuth)) return false;
    const have = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
    const want = server ? new x509.SubjectAlternativeNameExtension(sanNames(hosts)) : null;
    return sanKey(have) === sanKey(want);
  } catch {
    return false;
  }
}

/**
 * A certificate signed by the CA. Server certificates carry both uses: a hub node presents the same one when it
 * dials a cluster route or is dialled, and nats-server checks the client use on verified links.
 */
async function issue(
  ca: Issuer,
  o: { name: string; file: string; hosts: string[]; server: boolean },
  issued: string[],
  kept: string[],
): Promise<CertKey> {
  const cert = `${o.file}.pem`;
  const key = `${o.file}.key`;
  if (existsSync(key) && existsSync(cert) && stillGood(cert, ca, o.hosts, o.server)) {
    kept.push(cert);
    return { cert, key };
  }
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      o.server
        ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
        : [x509.ExtendedKeyUsage.clientAuth],
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (o.server) extensions.push(new x509.SubjectAlternativeNameExtension(sanNames(o.hosts)));
  const made = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${o.name.replace(/[,+="\\<>;]/g, '_')}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + CERT_DAYS * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  writeFile(key, await exportKey(keys.privateKey), 0o600);
  writeFile(cert, `${made.toString('pem')}\n`, 0o644);
  issued.push(cert);
  return { cert, key };
}

/**
 * A private CA under <out>/tls and the certificates every link needs: the hub's (all its nodes' names), each leaf's
 * own for its client port, each leaf's client certificate for its link to the hub, and client certificates for the
 * given users. Reruns keep what is still valid for the wanted names and renew the rest; keys are mode 0600.
 */
export async function issueCertificates(o: IssueOptions): Promise<IssueResult> {
  const issued: string[] = [];
  const kept: string[] = [];
  const { layout } = o;
  if (!layout.ca || !layout.cert || !layout.leaf) throw new TlsIssueError('no layout for generated certificates');
  const base = (f: string) => f.replace(/\.pem$/, '');
  const ca = await loadOrMakeCa(layout.ca, issued, kept);
  const made = (name: string, cert: string, hosts: string[] | undefined) =>
    issue(ca, { name, file: base(cert), hosts: hosts ?? [], server: hosts !== undefined }, issued, kept);
  await made('hub', layout.cert, [...o.hubHosts, ...LOOPBACK]);
  for (const site of o.sites) {
    const { server, client } = layout.leaf(site);
    await made(`leaf-${site}`, server.cert, [...o.leafHosts, ...LOOPBACK]);
    await made(`leaf-${site}`, client.cert, undefined);
  }
  if (layout.client) for (const user of new Set(o.clientUsers)) await made(user, layout.client(user).cert, undefined);
  return { issued, kept };
}

/** Host part of each URL of a list (comma-separated entries allowed, as in INI `url`). */
export function urlHosts(urls: string[]): string[] {
  return urls
    .flatMap((u) => u.split(','))
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => new URL(u.replace(/^[a-z-]+:/, 'http:')).hostname.replace(/^\[(.*)\]$/, '$1'));
}

/** `mmm creds --tls-generate`: the hub certificate names every hub URL and --tls-host, the leaves' the leaf URL. */
export function issueForCommand(o: {
  outDir: string;
  site: Record<string, string[]>;
  hubUrl: string;
  hubLeafUrl: string[];
  leafUrl: string;
  tlsHost?: string[];
  tlsVerifyClients?: boolean;
  users: string[];
}): Promise<IssueResult> {
  return issueCertificates({
    hubHosts: [...urlHosts([o.hubUrl, ...o.hubLeafUrl]), ...(o.tlsHost ?? [])],
    leafHosts: urlHosts([o.leafUrl]),
    sites: Object.keys(o.site),
    // Leafnode users present their leaf's link certificate instead.
    clientUsers: o.users.filter((u) => !Object.keys(o.site).some((site) => u === `leaf-${site}`)),
    layout: generatedTlsLayout(o.outDir, o.tlsVerifyClients === true),
  });
}
