import 'server-only';
import type { LogLine } from '../../../services/build/index.ts';
import { apiGet } from './api.ts';
import { context } from './context.ts';
import { installOfLog } from '../install-line.ts';

/**
 * The install the project's latest build ran, read from its build log (`install: …`), for the
 * settings page: the newest of the last few deployments whose log has that line.
 *
 * @example
 * await lastInstall('web'); // { deploymentId: '01JD…', line: 'install: pnpm, detected from pnpm-lock.yaml: pnpm install --frozen-lockfile (in .)' }
 */
export const lastInstall = async (projectId: string): Promise<{ deploymentId: string; line: string } | undefined> => {
  const { items } = await context().models.listDeployments(projectId, { limit: 3 });
  for (const d of items) {
    const log = await apiGet<LogLine[]>(`/api/deployments/${encodeURIComponent(d.deploymentId)}/logs`).catch(() => [] as LogLine[]);
    const line = installOfLog(log);
    if (line) return { deploymentId: d.deploymentId, line };
  }
  return undefined;
};
