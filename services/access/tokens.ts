import { createHash, randomBytes } from 'node:crypto';
import { keepRecent } from '../shell/index.ts';
import { AccessRequestError } from './errors.ts';
import { TOKEN_KINDS, type TokenKind, type TokenRecord, type TokenStore, type TokenSummary } from './ports.ts';

/** Every token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const TOKEN_PREFIX = 'shp_';
const TOKEN_SHAPE = /^shp_[A-Za-z0-9_-]{43}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A new token: `shp_` + 32 random bytes, base64url. Shown once; only its hash is stored.
 *
 * @example
 * generateToken(); // 'shp_q3J…' (47 characters)
 */
export const generateToken = (): string => `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

/**
 * The stored form of a token: hex SHA-256. A token has 256 random bits, so a fast hash is
 * enough (nothing to guess from a dictionary).
 *
 * @example
 * hashToken('shp_…'); // '5e88…' (64 hex characters)
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const summary = ({ hash: _hash, ...rest }: TokenRecord): TokenSummary => rest;

/** What the token commands need: the store, ids and the clock. */
export interface AccessDeps {
  tokens: TokenStore;
  ids: () => string;
  now: () => string;
  /** `lastUsedAt` is written at most this often per token; default 60 s. */
  touchEveryMs?: number;
  /**
   * How long a verified token is trusted without reading its record again; default 0 (every
   * request reads it). A revocation through these commands takes effect at once; one made by
   * another process (another Lambda instance) is seen within this time. Only a runtime that is
   * the sole writer of its tokens table should set it (`shiplog dev`).
   */
  verifiedForMs?: number;
}

/**
 * The access service's commands: create, list, revoke and verify API tokens.
 *
 * @example
 * const access = accessCommands({ tokens: dynamoTokenStore({ client, tableName }), ids: ulid, now });
 * const { token } = await access.create({ name: 'ci' }, 'token:admin'); // shown once
 * (await access.verify(token))?.name; // 'ci'
 */
export const accessCommands = (deps: AccessDeps) => {
  const touchEveryMs = deps.touchEveryMs ?? 60_000;
  const verifiedForMs = deps.verifiedForMs ?? 0;
  const active = async () => (await deps.tokens.list()).filter((t) => t.revokedAt === null);
  // Tokens verified lately, by hash: the record and when it was read (the last 1,000 used). A
  // read that a revocation overtook is not kept (it may have read the record before it).
  const verified = new Map<string, { record: TokenRecord; readAt: number }>();
  let revocations = 0;
  const lookUp = async (hash: string): Promise<TokenRecord | undefined> => {
    const kept = verified.get(hash);
    if (kept && Date.now() - kept.readAt < verifiedForMs) return kept.record;
    const before = revocations;
    const found = await deps.tokens.byHash(hash);
    if (verifiedForMs > 0 && found && found.revokedAt === null && revocations === before) keepRecent(verified, hash, { record: found, readAt: Date.now() }, 1000);
    else verified.delete(hash);
    return found;
  };

  return {
    /** A new token named `name` (unique among unrevoked tokens); the token is returned once. */
    create: async (input: { name?: unknown; kind?: unknown }, by: string): Promise<{ token: string; record: TokenSummary }> => {
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (!NAME.test(name)) throw new AccessRequestError('invalid', 'a token name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
      const kind = (input.kind ?? 'user') as TokenKind;
      if (!TOKEN_KINDS.includes(kind)) throw new AccessRequestError('invalid', `a token kind is one of ${TOKEN_KINDS.join(', ')}`);
      if ((await active()).some((t) => t.name === name)) throw new AccessRequestError('name-taken', `a token named "${name}" exists; revoke it first or choose another name`);
      const token = generateToken();
      const record: TokenRecord = {
        tokenId: deps.ids(), name, kind, prefix: token.slice(0, TOKEN_PREFIX.length + 4), hash: hashToken(token),
        createdAt: deps.now(), createdBy: by, lastUsedAt: null, revokedAt: null, revokedBy: null,
      };
      if (!(await deps.tokens.put(record))) throw new AccessRequestError('name-taken', 'that token id is taken; try again');
      return { token, record: summary(record) };
    },

    /** Every token, revoked ones too, oldest first; never a hash. */
    list: async (): Promise<TokenSummary[]> =>
      (await deps.tokens.list()).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)).map(summary),

    /** Revokes a token by id, or the unrevoked token of that name. */
    revoke: async (idOrName: string, by: string): Promise<TokenSummary> => {
      const all = await deps.tokens.list();
      const found = all.find((t) => t.tokenId === idOrName) ?? all.find((t) => t.name === idOrName && t.revokedAt === null);
      if (!found) throw new AccessRequestError('not-found', `no token "${idOrName}"`);
      if (found.revokedAt === null) {
        const at = deps.now();
        revocations++;
        verified.delete(found.hash);
        await deps.tokens.revoke(found.tokenId, at, by);
        revocations++;
        verified.delete(found.hash);
        return summary({ ...found, revokedAt: at, revokedBy: by });
      }
      return summary(found);
    },

    /** The unrevoked token a presented string is, or undefined. Records its use. */
    verify: async (presented: string): Promise<TokenSummary | undefined> => {
      if (!TOKEN_SHAPE.test(presented)) return undefined;
      const found = await lookUp(hashToken(presented));
      if (!found || found.revokedAt !== null) return undefined;
      const now = deps.now();
      if (!found.lastUsedAt || Date.parse(now) - Date.parse(found.lastUsedAt) >= touchEveryMs) {
        await deps.tokens.touch(found.tokenId, now).catch(() => undefined);
        found.lastUsedAt = now;
      }
      return summary(found);
    },
  };
};
export type AccessCommands = ReturnType<typeof accessCommands>;
