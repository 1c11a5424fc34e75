import type { Context } from 'hono';
import { HttpError } from './errors.ts';

const tooLarge = (limit: number) => new HttpError(413, `body larger than ${limit} bytes`);

/**
 * Reads a request body up to `limit` bytes; past it (declared or sent) answers 413.
 *
 * @example
 * const raw = await readBody(c, 1 << 20);
 */
export const readBody = async (c: Context, limit: number): Promise<Buffer> => {
  if (Number(c.req.header('content-length') ?? 0) > limit) throw tooLarge(limit);
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
};

/**
 * Reads a JSON body up to `limit` bytes (default 1 MiB); an empty body is `{}`, anything not
 * JSON answers 400.
 *
 * @example
 * const input = parseInput(RollbackInput, await readJson(c), 'rollback');
 */
export const readJson = async (c: Context, limit = 1 << 20): Promise<unknown> => {
  const raw = await readBody(c, limit);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
};
