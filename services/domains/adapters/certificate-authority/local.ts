import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CertificateAuthority, CertificateStatus } from '../../ports.ts';

const run = promisify(execFile);

/**
 * Options of {@link localCertificateAuthority}. `dir` holds the root CA (`root.pem`,
 * `root.key` with mode 0600) and the leaf certificates (`certs/<serial>.{pem,key}`).
 *
 * @example
 * localCertificateAuthority({ dir: join(dataDir, 'ca') });
 */
export interface LocalCaOptions {
  dir: string;
  /** The openssl binary; `openssl` on the PATH by default. */
  openssl?: string;
  /** Leaf validity in days; 397 by default (the browsers' limit for public certificates). */
  leafDays?: number;
}

/**
 * The local certificate authority: a root CA created once with the `openssl` CLI, and one leaf
 * certificate per requested host with the host as its subject alternative name. There is no
 * public DNS to check on one machine, so validation is immediate: `request` issues at once and
 * `status` answers `issued`. The validation record it returns has ACM's shape, for the
 * dashboard to show; nothing checks it. Trust `rootCertificate` to browse a host over HTTPS.
 *
 * @example
 * const ca = localCertificateAuthority({ dir: join(dataDir, 'ca') });
 * const { certificateId } = await ca.request({ host: 'www.example.com', idempotencyToken: 'e1' });
 * const { cert, key } = await ca.files(certificateId);
 */
export const localCertificateAuthority = (opts: LocalCaOptions) => {
  const openssl = opts.openssl ?? 'openssl';
  const rootPem = join(opts.dir, 'root.pem');
  const rootKey = join(opts.dir, 'root.key');
  const certs = join(opts.dir, 'certs');
  const leaf = (serial: string) => ({ cert: join(certs, `${serial}.pem`), key: join(certs, `${serial}.key`) });
  const exists = (path: string) => stat(path).then(() => true, () => false);
  const ssl = (...args: string[]) => run(openssl, args, { timeout: 30_000 });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  // `root.pem` marks a complete root: it is renamed into place last.
  let root: Promise<void> | undefined;
  const ensureRoot = () =>
    (root ??= (async () => {
      if (await exists(rootPem)) return;
      await mkdir(certs, { recursive: true, mode: 0o700 });
      const tmp = `.${randomBytes(4).toString('hex')}`;
      await ssl('req', '-x509', ...ecKey, '-keyout', rootKey + tmp, '-out', rootPem + tmp, '-days', '3650',
        '-subj', '/CN=shiplog local CA/O=shiplog', '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
      await chmod(rootKey + tmp, 0o600);
      await rename(rootKey + tmp, rootKey);
      await rename(rootPem + tmp, rootPem);
    })().catch((e: unknown) => {
      root = undefined;
      throw e;
    }));

  const issue = async (host: string): Promise<string> => {
    await ensureRoot();
    const bytes = randomBytes(16);
    bytes[0] = bytes[0]! & 0x7f; // a positive serial
    const serial = bytes.toString('hex').toUpperCase();
    const files = leaf(serial);
    const csr = `${files.cert}.csr`;
    const ext = `${files.cert}.ext`;
    try {
      await ssl('req', '-new', ...ecKey, '-keyout', files.key, '-out', csr, '-subj', `/CN=${host}`);
      await chmod(files.key, 0o600);
      await writeFile(ext, `subjectAltName=DNS:${host}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
      await ssl('x509', '-req', '-in', csr, '-CA', rootPem, '-CAkey', rootKey, '-set_serial', `0x${serial}`,
        '-days', String(opts.leafDays ?? 397), '-sha256', '-extfile', ext, '-out', files.cert);
    } finally {
      await Promise.all([rm(csr, { force: true }), rm(ext, { force: true })]);
    }
    return serial;
  };

  const status = async (certificateId: string): Promise<CertificateStatus> => {
    if (!/^[0-9A-F]{1,40}$/.test(certificateId)) return { status: 'failed', reason: 'certificate-failed', detail: `not a local CA serial: ${certificateId}` };
    const pem = await readFile(leaf(certificateId).cert, 'utf8').catch(() => undefined);
    if (!pem) return { status: 'failed', reason: 'certificate-failed', detail: `the local CA has no certificate ${certificateId}` };
    const x = new X509Certificate(pem);
    return { status: 'issued', issuer: x.issuer.replaceAll('\n', ', '), notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString() };
  };

  const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

  const ca: CertificateAuthority & {
    rootCertificate: string;
    files(certificateId: string): Promise<{ cert: string; key: string }>;
  } = {
    provider: 'local-ca',
    rootCertificate: rootPem,
    request: async ({ host }) => {
      const certificateId = await issue(host);
      return {
        certificateId,
        validationRecords: [{ purpose: 'certificate-validation', name: `_${hash(host)}.${host}`, type: 'CNAME', value: `_${hash(certificateId)}.local-ca.shiplog.invalid` }],
      };
    },
    status,
    release: async (certificateId) => {
      if (!/^[0-9A-F]{1,40}$/.test(certificateId)) return;
      const files = leaf(certificateId);
      await Promise.all([rm(files.cert, { force: true }), rm(files.key, { force: true })]);
    },
    files: async (certificateId) => {
      const files = leaf(certificateId);
      return { cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
    },
  };
  return ca;
};
