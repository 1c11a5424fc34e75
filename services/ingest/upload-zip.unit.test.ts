import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkZip } from './upload.ts';

// checkZip: what the API refuses of an uploaded archive before a build would (AWS has no unzip in
// the API function). Archives made by the `zip` the CLI runs, the way it runs it (to stdout), and
// by Python's zipfile for what `zip` will not make.

let dir: string;
const python = (script: string): Buffer => execFileSync('python3', ['-c', script], { maxBuffer: 16 << 20 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shiplog-zip-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'package.json'), '{"name":"web"}');
  writeFileSync(join(dir, 'app', 'page.tsx'), 'export default () => null;');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkZip', () => {
  it('takes the archive `shiplog deploy` makes (zip -q -X -y -@ - to stdout)', () => {
    const zip = execFileSync('zip', ['-q', '-X', '-y', '-@', '-'], { cwd: dir, input: 'package.json\napp/page.tsx\n' });
    expect(checkZip(zip)).toBeUndefined();
  });

  it('takes a zip64 archive and one with a trailing comment', () => {
    // zip64 end records (what a writer adds past 65,535 entries or 4 GiB), before a normal archive's end.
    const zip = execFileSync('zip', ['-q', '-X', '-', 'package.json', 'app/page.tsx'], { cwd: dir });
    const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(zip.readUInt16LE(eocd + 10)), 24);
    record.writeBigUInt64LE(BigInt(zip.readUInt16LE(eocd + 10)), 32);
    record.writeBigUInt64LE(BigInt(zip.readUInt32LE(eocd + 12)), 40);
    record.writeBigUInt64LE(BigInt(zip.readUInt32LE(eocd + 16)), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(eocd), 8);
    locator.writeUInt32LE(1, 16);
    const end = Buffer.from(zip.subarray(eocd));
    end.writeUInt16LE(0xffff, 8);
    end.writeUInt16LE(0xffff, 10);
    end.writeUInt32LE(0xffffffff, 12);
    end.writeUInt32LE(0xffffffff, 16);
    const zip64 = Buffer.concat([zip.subarray(0, eocd), record, locator, end]);
    expect(checkZip(zip64)).toBeUndefined();
    expect(checkZip(Buffer.concat([zip.subarray(0, eocd), Buffer.alloc(76), end]))).toBe('a zip64 archive without its locator');
    const commented = python("import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w')\nz.comment=b'PK\\x05\\x06 not the record'\nz.writestr('a.txt','x')\nz.close()\nsys.stdout.buffer.write(b.getvalue())");
    expect(checkZip(commented)).toBeUndefined();
  });

  it('refuses what is not a zip, a truncated one, and an empty one', () => {
    expect(checkZip(Buffer.from('certainly not a zip archive'))).toBe('no end-of-central-directory record');
    const zip = execFileSync('zip', ['-q', '-X', '-', 'package.json'], { cwd: dir });
    expect(checkZip(zip.subarray(0, zip.length - 10))).toBe('no end-of-central-directory record');
    const empty = python("import io,sys,zipfile\nb=io.BytesIO()\nzipfile.ZipFile(b,'w').close()\nsys.stdout.buffer.write(b.getvalue())");
    expect(empty.length).toBe(22);
    expect(checkZip(empty)).toBe('the archive holds no files');
  });

  it('refuses entries that would unpack outside the source', () => {
    for (const name of ['../evil.js', 'app/../../evil.js', '/etc/passwd', 'C:/evil.js', '..\\\\evil.js']) {
      const zip = python(`import io,sys,zipfile\nb=io.BytesIO()\nz=zipfile.ZipFile(b,'w')\nz.writestr('ok.txt','x')\ni=zipfile.ZipInfo('x')\ni.filename=${JSON.stringify(name)}\nz.writestr(i,'y')\nz.close()\nsys.stdout.buffer.write(b.getvalue())`);
      expect(checkZip(zip), name).toMatch(/would unpack outside the source/);
    }
  });

  it('refuses a central directory that points outside the archive', () => {
    const zip = Buffer.from(execFileSync('zip', ['-q', '-X', '-', 'package.json'], { cwd: dir }));
    const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    zip.writeUInt32LE(zip.length, eocd + 16);
    expect(checkZip(zip)).toBe('its central directory lies outside the archive');
  });
});
