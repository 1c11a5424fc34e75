import { Command } from 'commander';
import { api, output } from '../client.ts';

interface MountRow {
  prefix: string;
  project: string;
}

const seg = encodeURIComponent;
const table = (project: string, mounts: MountRow[]): string =>
  mounts.length === 0 ? `${project} mounts no project` : mounts.map((m) => `${m.prefix}  → ${m.project}`).join('\n');

const list = async (project: string, o: { json?: boolean }) => {
  const { mounts } = await api<{ mounts: MountRow[] }>('GET', `/api/projects/${seg(project)}/mounts`);
  output(mounts, o.json, () => table(project, mounts));
};

/**
 * `shiplog mounts <project>`, `mounts add <project> <prefix> <mounted-project>`, `mounts rm
 * <project> <prefix>`: multi-zone, another project's production served at a path prefix of this
 * project's domain (build it with that prefix as its `basePath`).
 *
 * @example
 * // shiplog mounts add web /outreach outreach
 * program.addCommand(mountsCommand());
 */
export const mountsCommand = (): Command => {
  const cmd = new Command('mounts').description("projects served at path prefixes of a project's domain (multi-zone)");
  // `shiplog mounts <project>` runs `ls`, the default subcommand; an option on `mounts` itself
  // would take the `--json` of `mounts add … --json` (the program's options are not positional).
  cmd
    .command('ls <project>', { isDefault: true })
    .description('the mounts of a project (the default: `shiplog mounts <project>`)')
    .option('--json', 'print JSON')
    .action(list);
  cmd
    .command('add <project> <prefix> <mounted-project>')
    .description("serve <mounted-project>'s production at <prefix> of <project> (build it with basePath: <prefix>)")
    .option('--json', 'print JSON')
    .action(async (project: string, prefix: string, mounted: string, o: { json?: boolean }) => {
      const res = await api<{ mounts: MountRow[] }>('POST', `/api/projects/${seg(project)}/mounts`, { prefix, project: mounted });
      output(res, o.json, () => `${project}${prefix} is served by ${mounted}; its production deployment must be built with basePath '${prefix}'`);
    });
  cmd
    .command('rm <project> <prefix>')
    .description('stop serving <prefix> from another project; the project serves it again')
    .option('--json', 'print JSON')
    .action(async (project: string, prefix: string, o: { json?: boolean }) => {
      const res = await api<{ removed: MountRow }>('DELETE', `/api/projects/${seg(project)}/mounts?prefix=${seg(prefix)}`);
      output(res, o.json, () => `${project}${prefix} is no longer served by ${res.removed.project}`);
    });
  return cmd;
};
