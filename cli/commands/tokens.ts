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
 * A new admin token from a stage on AWS, made by its admin token function (the `adminTokenFunction`
 * output of `sst deploy`, a name or ARN), which the caller's AWS credentials must be allowed to
 * invoke: the first login of a bare stage.
 *
 * @example
 * const { token, apiUrl } = await adminTokenFromAws('shiplog-production-AdminTokenFunction-abc123', 'ops');
 */
const adminTokenFromAws = async (FunctionName: string, name: string | undefined): Promise<{ token: string; apiUrl: string }> => {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  let res;
  try {
    res = await new LambdaClient({}).send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(name ? { name } : {})) }));
  } catch (err) {
    throw new CliError(`could not invoke ${FunctionName} with your AWS credentials: ${(err as Error).message}`);
  }
  const body = res.Payload ? Buffer.from(res.Payload).toString('utf8') : '';
  if (res.FunctionError) {
    const message = (() => {
      try {
        return (JSON.parse(body) as { errorMessage?: string }).errorMessage ?? body;
      } catch {
        return body;
      }
    })();
    throw new CliError(`${FunctionName} made no token: ${message}`);
  }
  const out = JSON.parse(body) as { token?: string; apiUrl?: string };
  if (!out.token || !out.apiUrl) throw new CliError(`${FunctionName} answered without a token and API URL`);
  return { token: out.token, apiUrl: out.apiUrl };
};

/**
 * `shiplog login --url <api> --token <t>`: checks the token against that API and stores it for
 * that URL (`credentials.json`, mode 0600); later commands with `--url`/`SHIPLOG_URL` use it.
 * `--url` is the program's global option. `shiplog login --aws <admin token function> [--name <n>]`
 * instead gets a new admin token (and the API's URL) from the stage's admin token function with
 * the caller's AWS credentials: how a bare stage on AWS gets its first token.
 */
export const loginCommand = (): Command =>
  new Command('login')
    .description('store a token for another shiplog instance (--url <api> --token <t>, or --aws <function> for a new admin token)')
    .option('--token <token>', 'an API token of that instance (shiplog tokens create there)')
    .option('--aws <function>', "a stage on AWS: a new admin token from its admin token function (the adminTokenFunction output), with your AWS credentials")
    .option('--name <name>', 'with --aws: the new token\'s name (default admin)')
    .option('--json', 'print JSON')
    .action(async (o: { token?: string; aws?: string; name?: string; json?: boolean }, cmd: Command) => {
      if (o.aws && o.token) throw new CliError('choose --token or --aws, not both');
      if (!o.aws && !o.token) throw new CliError('login needs --token <token> (or --aws <admin token function> for a new admin token)');
      const fromAws = o.aws ? await adminTokenFromAws(o.aws, o.name) : undefined;
      const token = fromAws?.token ?? o.token!;
      const url = (cmd.optsWithGlobals() as { url?: string }).url ?? process.env.SHIPLOG_URL ?? fromAws?.apiUrl;
      if (!url) throw new CliError('login needs --url <api> (the instance the token belongs to)');
      const key = instanceKey(url);
      process.env.SHIPLOG_URL = key;
      process.env.SHIPLOG_TOKEN = token;
      const who = await api<{ name: string; kind: string }>('GET', '/api/whoami');
      const file = saveCredential(key, token);
      output({ url: key, name: who.name, kind: who.kind, file }, o.json, () => `logged in to ${key} as token ${who.name} (${who.kind}); stored in ${file}`);
    });
