import { z } from 'zod';
import { Branch, Target } from '../../events/index.ts';

/**
 * The largest uploaded source the API takes (a zip of an app's tracked files, no `node_modules`).
 *
 * @example
 * if (zip.length > MAX_UPLOAD_BYTES) throw new Error('too large');
 */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

/**
 * What `deployUpload` takes besides the archive: production or a preview (`shiplog deploy --prod`,
 * default preview as `vercel deploy`), the preview's branch (its alias), and a message.
 *
 * @example
 * UploadDeploymentInput.parse({ target: 'preview', branch: 'feature-x', message: 'shiplog deploy' });
 */
export const UploadDeploymentInput = z.strictObject({
  target: Target.default('preview'),
  branch: Branch.optional(),
  message: z.string().max(4096).default('shiplog deploy'),
});
export type UploadDeploymentInput = z.input<typeof UploadDeploymentInput>;

/**
 * `shiplog deploy` on a runtime that takes archives by presigned PUT (AWS): the size the client
 * will PUT, signed into the URL, so storage refuses anything else.
 *
 * @example
 * UploadRequestInput.parse({ bytes: zip.length });
 */
export const UploadRequestInput = z.strictObject({
  bytes: z.number().int().min(1).max(MAX_UPLOAD_BYTES, `at most ${MAX_UPLOAD_BYTES} bytes`),
});
export type UploadRequestInput = z.input<typeof UploadRequestInput>;

/**
 * An upload's id: a ULID the API made (it names an object key, so nothing else is taken).
 *
 * @example
 * UploadId.parse('01JE0000000000000000000001');
 */
export const UploadId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be the upload id the API gave');

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;

/**
 * What is wrong with an uploaded archive as a zip a build can unpack, or undefined when nothing
 * is: its end-of-central-directory record (zip64 included), a central directory inside the
 * archive, at least one entry, and no entry named by an absolute path or with a `..` segment.
 * A structural check only (no inflation): the build unpacks it.
 *
 * @example
 * checkZip(Buffer.from('not a zip')); // 'no end-of-central-directory record'
 */
export const checkZip = (zip: Buffer): string | undefined => {
  // The record is 22 bytes plus a comment of at most 65,535.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD && i + 22 + zip.readUInt16LE(i + 20) === zip.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return 'no end-of-central-directory record';
  let entries = zip.readUInt16LE(eocd + 10);
  let size = zip.readUInt32LE(eocd + 12);
  let offset = zip.readUInt32LE(eocd + 16);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== ZIP64_LOCATOR) return 'a zip64 archive without its locator';
    const at = Number(zip.readBigUInt64LE(locator + 8));
    if (at + 56 > zip.length || zip.readUInt32LE(at) !== ZIP64_EOCD) return 'a zip64 archive without its end record';
    entries = Number(zip.readBigUInt64LE(at + 32));
    size = Number(zip.readBigUInt64LE(at + 40));
    offset = Number(zip.readBigUInt64LE(at + 48));
  }
  if (entries === 0) return 'the archive holds no files';
  if (offset + size > zip.length) return 'its central directory lies outside the archive';
  let at = offset;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > offset + size || zip.readUInt32LE(at) !== CENTRAL) return `entry ${n + 1} of ${entries} is not in the central directory`;
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes('..')) return `entry "${name}" would unpack outside the source`;
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return undefined;
};
