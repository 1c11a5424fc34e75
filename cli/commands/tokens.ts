import { Command } from 'commander';
import { api, CliError, output } from '../client.ts';
import { instanceKey, saveCredential } from '../credentials.ts';

interface TokenRow {
  tokenId: string;
  name: string;
  kind: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const row = (t: TokenRow) =>
  `${t.tokenId}  ${t.name.padEnd(16)} ${t.kind.padEnd(9)} ${`${t.prefix}…`.padEnd(10)} created ${t.createdAt}  ${t.revokedAt ? `revoked ${t.revokedAt}` : `last used ${t.lastUsedAt ?? 'never'}`}`;

/** `shiplog tokens create|ls|revoke`: API tokens (an admin token manages them). */
export const tokensCommand = (): Command => {
  const cmd = new Command('tokens').description('API tokens: random, shown once, stored hashed, revocable');
  cmd
    .command('create <name>')
    .description('create a token (printed this once; only its hash is kept)')
    .option('--kind <kind>', 'user, admin or dashboard', 'user')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { kind: string; json?: boolean }) => {
      const res = await api<TokenRow & { token: string }>('POST', '/api/tokens', { name, kind: o.kind });
      output(res, o.json, () => `created token ${res.name} (${res.kind}, id ${res.tokenId}); shown this once:\n${res.token}`);
    });
  cmd
    .command('ls')
    .description('every token (revoked ones too), without secrets')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { tokens } = await api<{ tokens: TokenRow[] }>('GET', '/api/tokens');
      output(tokens, o.json, () => (tokens.length ? tokens.map(row).join('\n') : 'no tokens'));
    });
  cmd
    .command('revoke <token>')
    .description('revoke a token by id or name; it stops working at once')
    .option('--json', 'print JSON')
    .action(async (which: string, o: { json?: boolean }) => {
      const res = await api<TokenRow>('DELETE', `/api/tokens/${encodeURIComponent(which)}`);
      output(res, o.json, () => `revoked ${res.name} (${res.tokenId}) at ${res.revokedAt}`);
    });
  return cmd;
};

/**
 * `shiplog login --url <api> --token <t>`: checks the token against that API and stores it for
 * that URL (`credentials.json`, mode 0600); later commands with `--url`/`SHIPLOG_URL` use it.
 * `--url` is the program's global option.
 */
export const loginCommand = (): Command =>
  new Command('login')
    .description('store a token for another shiplog instance (use with --url <api>)')
    .requiredOption('--token <token>', 'an API token of that instance (shiplog tokens create there)')
    .option('--json', 'print JSON')
    .action(async (o: { token: string; json?: boolean }, cmd: Command) => {
      const url = (cmd.optsWithGlobals() as { url?: string }).url ?? process.env.SHIPLOG_URL;
      if (!url) throw new CliError('login needs --url <api> (the instance the token belongs to)');
      const key = instanceKey(url);
      process.env.SHIPLOG_URL = key;
      process.env.SHIPLOG_TOKEN = o.token;
      const who = await api<{ name: string; kind: string }>('GET', '/api/whoami');
      const file = saveCredential(key, o.token);
      output({ url: key, name: who.name, kind: who.kind, file }, o.json, () => `logged in to ${key} as token ${who.name} (${who.kind}); stored in ${file}`);
    });
