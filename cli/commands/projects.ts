import { Command } from 'commander';
import { api, CliError, output, runningInstance } from '../client.ts';
import { getDeployment } from './deployments.ts';

interface ProjectView {
  projectId: string;
  name: string;
  settings: { productionBranch: string };
  env: { name: string; target: string; version: number; sensitive: boolean }[];
  webhookUrl: string;
  /** Absent where the runtime serves no git remote (AWS). */
  gitUrl?: string;
}

// The local instance's sites URL; another instance (`--url`) is not on this machine: its URL is not known here.
const productionUrl = (projectId: string): string | null => {
  let sitesUrl: string | null | undefined;
  try {
    ({ sitesUrl } = runningInstance());
  } catch (err) {
    if (process.env.SHIPLOG_URL) return null;
    throw err;
  }
  const url = new URL(sitesUrl ?? 'http://localhost:3001');
  return `${url.protocol}//${projectId}.localhost:${url.port}`;
};

/** `shiplog projects create|get`. */
export const projectsCommand = (): Command => {
  const cmd = new Command('projects').description('projects: a repository that deploys');
  cmd
    .command('create <name>')
    .description('create a project; prints its git remote and webhook (the secrets are shown once)')
    .option('--repo <url-or-path>', 'the repository (a GitHub URL for webhooks; omit to push to shiplog\'s own git remote)')
    .option('--branch <name>', 'the production branch', 'main')
    .option('--install-command <cmd>', 'install command (default: npm ci)')
    .option('--build-command <cmd>', 'build command (default: the app\'s package.json build script with its package manager, else next build)')
    .option('--root-dir <dir>', 'the app\'s directory in the repository', '.')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { repo?: string; branch: string; installCommand?: string; buildCommand?: string; rootDir: string; json?: boolean }) => {
      const res = await api<{ project: ProjectView; webhookSecret: string; pushToken: string; gitRemoteUrl?: string }>('POST', '/api/projects', {
        name,
        ...(o.repo ? { repo: o.repo } : {}),
        productionBranch: o.branch,
        ...(o.installCommand ? { installCommand: o.installCommand } : {}),
        ...(o.buildCommand ? { buildCommand: o.buildCommand } : {}),
        rootDir: o.rootDir,
      });
      const out = {
        ...res.project,
        gitRemote: res.gitRemoteUrl,
        webhookUrl: res.project.webhookUrl,
        webhookSecret: res.webhookSecret,
        productionUrl: productionUrl(res.project.projectId),
      };
      output(out, o.json, () =>
        [
          `created ${res.project.name}`,
          res.gitRemoteUrl
            ? `  push to deploy   git push ${res.gitRemoteUrl} ${res.project.settings.productionBranch}`
            : `  deploy           shiplog deploy . --project ${res.project.name} --prod (or push to GitHub with the webhook below)`,
          ...(out.productionUrl ? [`  production URL   ${out.productionUrl}`] : []),
          `  GitHub webhook   ${res.project.webhookUrl} (secret: ${res.webhookSecret}; shown once)`,
        ].join('\n'),
      );
    });
  cmd
    .command('rotate-credentials <name>')
    .description('rotate the push token and webhook secret: the old ones stop working, the new ones are shown once')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const res = await api<{ webhookSecret: string; pushToken: string; gitRemoteUrl?: string }>('POST', `/api/projects/${encodeURIComponent(name)}/credentials/rotate`, {});
      output(res, o.json, () =>
        [
          `rotated the credentials of ${name} (the old ones no longer work; these are shown once)`,
          ...(res.gitRemoteUrl ? [`  git remote       ${res.gitRemoteUrl}`] : []),
          `  webhook secret   ${res.webhookSecret}`,
        ].join('\n'),
      );
    });
  cmd
    .command('get <name>')
    .description('a project, its production URL and live deployment')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const project = await api<ProjectView>('GET', `/api/projects/${encodeURIComponent(name)}`);
      const deployments = await api<{ id: string; live: boolean; status: string }[]>('GET', `/api/projects/${encodeURIComponent(name)}/deployments`);
      const live = await api<{ production: string | null }>('GET', `/api/projects/${encodeURIComponent(name)}/aliases`);
      const out = { ...project, productionUrl: productionUrl(project.projectId), liveDeploymentId: live.production, deployments: deployments.length };
      output(out, o.json, () => `${project.name}  ${out.productionUrl ?? ''}  live: ${live.production ?? 'nothing yet'}`);
    });
  return cmd;
};

/** `shiplog env set|rm <project> …`: env vars; values are stored encrypted and never printed. */
export const envCommand = (): Command => {
  const cmd = new Command('env').description("a project's environment variables");
  cmd
    .command('set <project> <assignment>')
    .description('set KEY=VALUE (a new version; builds and the running app receive it)')
    .option('--secret', 'sensitive: write-only, never shown')
    .option('--target <target>', 'production or preview', 'production')
    .option('--json', 'print JSON')
    .action(async (project: string, assignment: string, o: { secret?: boolean; target: string; json?: boolean }) => {
      const eq = assignment.indexOf('=');
      if (eq <= 0) throw new CliError(`expected KEY=VALUE, got "${assignment.split('=')[0]}…"`);
      const res = await api<{ name: string; target: string; version: number }>('POST', `/api/projects/${encodeURIComponent(project)}/env`, {
        name: assignment.slice(0, eq),
        value: assignment.slice(eq + 1),
        target: o.target,
        sensitive: o.secret === true,
      });
      output(res, o.json, () => `${res.name} (${res.target}) is now version ${res.version}`);
    });
  cmd
    .command('rm <project> <name>')
    .description('remove an env var')
    .option('--target <target>', 'production or preview', 'production')
    .action(async (project: string, name: string, o: { target: string }) => {
      await api('DELETE', `/api/projects/${encodeURIComponent(project)}/env/${encodeURIComponent(name)}?target=${o.target}`);
      process.stdout.write(`removed ${name} (${o.target})\n`);
    });
  return cmd;
};

interface CausedEvent { eventId: string; type: string; data: Record<string, unknown> }

/**
 * Waits until a request (a rollback's or promotion's event) has one of `outcomes` among the
 * events it caused, polling the API; undefined when `timeoutSeconds` pass first.
 */
const outcomeOf = async (project: string, requestId: string, outcomes: string[], timeoutSeconds: number): Promise<CausedEvent | undefined> => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const { events } = await api<{ events: CausedEvent[] }>('GET', `/api/projects/${encodeURIComponent(project)}/requests/${encodeURIComponent(requestId)}`);
    const outcome = events.find((e) => outcomes.includes(e.type));
    if (outcome || Date.now() > deadline) return outcome;
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** `shiplog rollback`, `shiplog promote`, `shiplog redeploy`: moves with no rebuild (but redeploy). */
export const releaseCommands = (): Command[] => [
  new Command('rollback')
    .argument('<project>')
    .description('point production back at an earlier ready deployment (no rebuild)')
    .option('--to <deployment>', 'the deployment to go back to (default: the one live before)')
    .option('--reason <text>', 'why, for the history')
    .option('--timeout <seconds>', 'how long to wait for the outcome', '30')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { to?: string; reason?: string; timeout: string; json?: boolean }) => {
      const res = await api<{ eventId: string; alias: string }>('POST', `/api/projects/${encodeURIComponent(project)}/rollback`, {
        ...(o.to ? { to: o.to } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
      const outcome = await outcomeOf(project, res.eventId, ['RolledBack', 'RollbackRejected'], Number(o.timeout));
      if (!outcome) throw new CliError(`rollback of ${project} requested (${res.eventId}) but not done after ${o.timeout}s; see \`shiplog deployments list ${project}\``);
      if (outcome.type === 'RollbackRejected') throw new CliError(`rollback of ${project} refused: ${String(outcome.data.reason)}`);
      const { fromDeploymentId, toDeploymentId } = outcome.data as { fromDeploymentId: string | null; toDeploymentId: string };
      // Read-your-writes: answer once the read models show the rollback, so the next command sees it.
      const current = (await getDeployment(toDeploymentId, outcome.eventId)).current;
      output({ ...res, outcome: outcome.type, fromDeploymentId, toDeploymentId, current }, o.json, () =>
        `${res.alias} of ${project} rolled back to ${toDeploymentId}${fromDeploymentId ? ` (from ${fromDeploymentId})` : ''}; it is pinned until a promote`);
    }),
  new Command('promote')
    .argument('<deployment>')
    .description('make a ready deployment live on production (never rebuilds: refuses what is not built for production)')
    .option('--timeout <seconds>', 'how long to wait for the outcome', '30')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { timeout: string; json?: boolean }) => {
      const d = await getDeployment(id);
      // A rejected deployment (stale, pinned by a rollback) may be published: the deploy service says whether it can be promoted.
      const built = d.live || d.status === 'ready' || d.status === 'rejected';
      if (d.target !== 'production') {
        throw new CliError(`deployment ${id} was built as a ${d.target ?? 'preview'}; promote never rebuilds: use \`shiplog redeploy ${id} --prod\` to build it for production`);
      }
      if (d.current.includes('production')) throw new CliError(`deployment ${id} is already current on production`);
      if (!built && ['queued', 'building', 'deploying'].includes(d.status)) {
        throw new CliError(`deployment ${id} is not ready (${d.status}); wait for it with \`shiplog deployments wait ${id}\``);
      }
      if (!built) throw new CliError(`deployment ${id} is not ready (${d.status === 'error' ? 'failed' : d.status}); use \`shiplog redeploy ${id}\``);
      const res = await api<{ kind: 'promote' | 'rebuild'; projectId: string; deploymentId: string; eventId?: string }>('POST', `/api/deployments/${encodeURIComponent(id)}/promote`, {});
      if (res.kind !== 'promote' || !res.eventId) throw new CliError(`the API started a rebuild (${res.deploymentId}) instead of a promotion of ${id}`);
      const outcome = await outcomeOf(res.projectId, res.eventId, ['Promoted', 'DeploymentRejected'], Number(o.timeout));
      if (!outcome) throw new CliError(`promotion of ${id} requested (${res.eventId}) but not done after ${o.timeout}s; see \`shiplog deployments get ${id}\``);
      if (outcome.type === 'DeploymentRejected') {
        const { reason, detail } = outcome.data as { reason: string; detail?: string };
        throw new CliError(`promotion of ${id} refused: ${reason}${detail ? ` (${detail})` : ''}`);
      }
      // Read-your-writes: answer once the read models show the promotion, so the next command sees it.
      const current = (await getDeployment(id, outcome.eventId)).current;
      output({ ...res, outcome: outcome.type, current }, o.json, () => `${id} is now current on production of ${res.projectId} (no rebuild)`);
    }),
  new Command('redeploy')
    .argument('<deployment>')
    .description('build the same commit again as a new deployment (--prod: build a preview for production)')
    .option('--prod', 'build it for production, with the production env vars')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean; prod?: boolean }) => {
      const res = await api<unknown>('POST', `/api/deployments/${encodeURIComponent(id)}/redeploy`, o.prod ? { target: 'production' } : {});
      output(res, o.json, () => `redeploy of ${id} requested: ${JSON.stringify(res)}`);
    }),
];
