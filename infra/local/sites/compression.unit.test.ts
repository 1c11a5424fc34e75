import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressedFiles, compressibleSize, compressibleType, encodingFor, varyWithEncoding } from './compression.ts';

describe('encodingFor', () => {
  it.each([
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate', 'gzip'],
    ['br;q=0.5, gzip;q=1', 'br'],
    ['gzip;q=1, br;q=0', 'gzip'],
    ['BR', 'br'],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
    ['deflate', undefined],
    ['identity', undefined],
    ['gzip;q=0', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, expected) => {
    expect(encodingFor(header)).toBe(expected);
  });

  it('reads a header sent more than once', () => {
    expect(encodingFor(['deflate', 'gzip'])).toBe('gzip');
  });
});

describe('what is compressed', () => {
  it.each([
    ['text/html; charset=utf-8', true], ['text/javascript; charset=utf-8', true], ['text/css; charset=utf-8', true],
    ['application/json', true], ['application/manifest+json', true], ['image/svg+xml', true], ['image/x-icon', true],
    ['font/ttf', true], ['application/wasm', true],
    ['image/png', false], ['image/webp', false], ['font/woff2', false], ['application/pdf', false],
    ['application/octet-stream', false], ['video/mp4', false], ['application/jsonp-not-a-type', false],
  ])('%s: %s', (type, expected) => {
    expect(compressibleType(type)).toBe(expected);
  });

  it('sizes from 1,000 bytes to 10,000,000', () => {
    expect([999, 1000, 10_000_000, 10_000_001].map(compressibleSize)).toEqual([false, true, true, false]);
  });
});

describe('varyWithEncoding', () => {
  it.each([
    [undefined, 'Accept-Encoding'],
    ['rsc, next-url', 'rsc, next-url, Accept-Encoding'],
    ['accept-encoding', 'accept-encoding'],
    ['Origin,Accept-Encoding', 'Origin, Accept-Encoding'],
    [['rsc', 'cookie'], 'rsc, cookie, Accept-Encoding'],
    ['*', '*'],
  ])('%j → %j', (vary, expected) => {
    expect(varyWithEncoding(vary)).toBe(expected);
  });
});

describe('compressedFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compressed-files-'));
  const text = (n: number) => Array.from({ length: n }, (_, i) => `line ${i} of some text`).join('\n');

  it('compresses each encoding once and gives back the same bytes after', async () => {
    const file = join(dir, 'a.js');
    writeFileSync(file, text(500));
    const cache = compressedFiles();
    const [br, again] = await Promise.all([cache.get(file, 't1', 'br'), cache.get(file, 't1', 'br')]);
    expect(again).toBe(br);
    expect(brotliDecompressSync(br).toString()).toBe(text(500));
    const gz = await cache.get(file, 't1', 'gzip');
    expect(gunzipSync(gz).toString()).toBe(text(500));
    expect(cache.bytes).toBe(br.length + gz.length);
    // A file replaced under its name (another size or mtime: another tag) is read again.
    writeFileSync(file, text(600));
    expect(brotliDecompressSync(await cache.get(file, 't2', 'br')).toString()).toBe(text(600));
  });

  it('keeps the most recently used copies within its bytes', async () => {
    const files = ['x', 'y', 'z'].map((n, i) => {
      const file = join(dir, `${n}.txt`);
      writeFileSync(file, text(2000 + i));
      return file;
    });
    const sizes = await Promise.all(files.map((f) => compressedFiles().get(f, 't', 'gzip').then((b) => b.length)));
    const cache = compressedFiles(sizes[0]! + sizes[1]! + 10);
    const first = await cache.get(files[0]!, 't', 'gzip');
    await cache.get(files[1]!, 't', 'gzip');
    expect(await cache.get(files[0]!, 't', 'gzip')).toBe(first); // used again: now the most recent
    await cache.get(files[2]!, 't', 'gzip');
    await new Promise((ok) => setImmediate(ok));
    // y went (least recently used); x stayed.
    expect(cache.bytes).toBe(sizes[0]! + sizes[2]!);
    expect(await cache.get(files[0]!, 't', 'gzip')).toBe(first);
  });

  it('does not keep a failed read', async () => {
    const cache = compressedFiles();
    const missing = join(dir, 'missing.js');
    await expect(cache.get(missing, 't', 'br')).rejects.toThrow(/ENOENT/);
    writeFileSync(missing, text(100));
    expect(brotliDecompressSync(await cache.get(missing, 't', 'br')).toString()).toBe(text(100));
  });
});
