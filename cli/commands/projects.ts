import { Command } from 'commander';
import { api, CliError, output, runningInstance } from '../client.ts';

interface ProjectView {
  projectId: string;
  name: string;
  settings: { productionBranch: string };
  env: { name: string; target: string; version: number; sensitive: boolean }[];
  webhookUrl: string;
  gitUrl: string;
}

const productionUrl = (projectId: string): string => {
  const { sitesUrl } = runningInstance();
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
    .option('--build-command <cmd>', 'build command (default: next build)')
    .option('--root-dir <dir>', 'the app\'s directory in the repository', '.')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { repo?: string; branch: string; installCommand?: string; buildCommand?: string; rootDir: string; json?: boolean }) => {
      const res = await api<{ project: ProjectView; webhookSecret: string; pushToken: string; gitRemoteUrl: string }>('POST', '/api/projects', {
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
          `  push to deploy   git push ${res.gitRemoteUrl} ${res.project.settings.productionBranch}`,
          `  production URL   ${out.productionUrl}`,
          `  GitHub webhook   ${res.project.webhookUrl} (secret: ${res.webhookSecret}; shown once)`,
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
      output(out, o.json, () => `${project.name}  ${out.productionUrl}  live: ${live.production ?? 'nothing yet'}`);
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

/** `shiplog rollback`, `shiplog promote`, `shiplog redeploy`: moves with no rebuild (but redeploy). */
export const releaseCommands = (): Command[] => [
  new Command('rollback')
    .argument('<project>')
    .description('point production back at an earlier ready deployment (no rebuild)')
    .option('--to <deployment>', 'the deployment to go back to (default: the one live before)')
    .option('--reason <text>', 'why, for the history')
    .option('--json', 'print JSON')
    .action(async (project: string, o: { to?: string; reason?: string; json?: boolean }) => {
      const res = await api<unknown>('POST', `/api/projects/${encodeURIComponent(project)}/rollback`, {
        ...(o.to ? { to: o.to } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
      });
      output(res, o.json, () => `rollback of ${project} requested${o.to ? ` to ${o.to}` : ''}`);
    }),
  new Command('promote')
    .argument('<deployment>')
    .description('make a ready deployment live on production (no rebuild)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const res = await api<unknown>('POST', `/api/deployments/${encodeURIComponent(id)}/promote`, {});
      output(res, o.json, () => `promotion of ${id} requested`);
    }),
  new Command('redeploy')
    .argument('<deployment>')
    .description('build the same commit again as a new deployment')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const res = await api<unknown>('POST', `/api/deployments/${encodeURIComponent(id)}/redeploy`, {});
      output(res, o.json, () => `redeploy of ${id} requested: ${JSON.stringify(res)}`);
    }),
];
