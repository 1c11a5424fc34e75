import type { AccessCommands } from './tokens.ts';
import type { TokenHolder, TokenKind } from './ports.ts';

/**
 * Gives a part of the platform a new token of its own and retires the ones it held before:
 * creates a token of `kind` named `name` (or `name-next`, whichever is free), hands it to
 * `holder`, then revokes the others of those names. Run on each deploy, so the token rotates with
 * the stage; a reader holding the previous one gets 401 and reads the holder again. Only ids are
 * returned: the token itself goes to the holder alone.
 *
 * @example
 * await rotateHeldToken(access, ssmTokenHolder({ ssm, name: '/shiplog/dashboard/api-token', keyId }), { name: 'dashboard', kind: 'dashboard', by: 'system:deploy' });
 * // { tokenId: '01J…', revoked: ['01H…'] }
 */
export const rotateHeldToken = async (
  access: Pick<AccessCommands, 'create' | 'list' | 'revoke'>,
  holder: TokenHolder,
  input: { name: string; kind: TokenKind; by: string },
): Promise<{ tokenId: string; revoked: string[] }> => {
  // Names are unique among unrevoked tokens: the new token takes whichever of `name` and
  // `name-next` the old one does not hold, so the old one answers until the holder has the new one.
  const names = [input.name, `${input.name}-next`];
  const all = (await access.list()).filter((t) => names.includes(t.name) && t.revokedAt === null);
  const foreign = all.find((t) => t.kind !== input.kind);
  if (foreign) throw new Error(`a ${foreign.kind} token named "${foreign.name}" exists (${foreign.tokenId}); revoke it so the ${input.kind} token can take its name`);
  const revoked: string[] = [];
  let free = names.find((n) => !all.some((t) => t.name === n));
  if (!free) {
    // Both taken (a rotation stopped halfway): the older one is not the one the holder has.
    const older = all.reduce((a, b) => (a.createdAt <= b.createdAt ? a : b));
    await access.revoke(older.tokenId, input.by);
    revoked.push(older.tokenId);
    free = older.name;
  }
  const { token, record } = await access.create({ name: free, kind: input.kind }, input.by);
  await holder.write(token);
  for (const t of all.filter((t) => !revoked.includes(t.tokenId))) {
    await access.revoke(t.tokenId, input.by);
    revoked.push(t.tokenId);
  }
  return { tokenId: record.tokenId, revoked };
};
