'use server';

import 'server-only';
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { ForbiddenError, guard, signInWithPassword, signOut } from '../auth/index.ts';
import type { ActionState } from '../action-state.ts';
import { command, CommandError } from './api.ts';

// Every mutation: guard (session, origin, CSRF), one command to the API, a message back.
const run = async (form: FormData, fn: () => Promise<ActionState>): Promise<ActionState> => {
  try {
    await guard(form);
    return await fn();
  } catch (err) {
    if (err instanceof ForbiddenError || err instanceof CommandError) return { ok: false, message: err.message };
    throw err;
  }
};

const text = (form: FormData, name: string): string => String(form.get(name) ?? '').trim();
const seg = (value: string): string => encodeURIComponent(value);

export async function signInAction(_: ActionState, form: FormData): Promise<ActionState> {
  const error = await signInWithPassword(text(form, 'username'), String(form.get('password') ?? ''));
  if (error) return { ok: false, message: error };
  const next = text(form, 'next');
  redirect(next.startsWith('/') && !next.startsWith('//') ? next : '/');
}

export async function signOutAction(form: FormData): Promise<void> {
  await guard(form).catch(() => undefined);
  await signOut();
  redirect('/sign-in');
}

export async function createProjectAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const repo = text(form, 'repo');
    const body = { name: text(form, 'name'), productionBranch: text(form, 'productionBranch') || 'main', ...(repo ? { repo } : {}) };
    const created = await command<{ project: { projectId: string; webhookUrl: string }; webhookSecret: string; gitRemoteUrl?: string }>('POST', '/api/projects', body);
    revalidatePath('/');
    return {
      ok: true,
      message: `Project ${created.project.projectId} created.`,
      data: { projectId: created.project.projectId, ...(created.gitRemoteUrl ? { gitRemoteUrl: created.gitRemoteUrl } : {}), webhookUrl: created.project.webhookUrl, webhookSecret: created.webhookSecret },
    };
  });
}

export async function updateSettingsAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const optional = (name: string) => (text(form, name) ? text(form, name) : null);
    await command('PATCH', `/api/projects/${seg(project)}`, {
      productionBranch: text(form, 'productionBranch'),
      previewBranches: text(form, 'previewBranches') === 'none' ? 'none' : 'all',
      autoDeploy: form.get('autoDeploy') === 'on',
      installCommand: optional('installCommand'),
      buildCommand: optional('buildCommand'),
      rootDir: text(form, 'rootDir') || '.',
      nodeVersion: text(form, 'nodeVersion') === '22.x' ? '22.x' : '20.x',
    });
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: 'Build settings saved. They apply to the next deployment.' };
  });
}

export async function setEnvVarAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const name = text(form, 'name');
    const targets = form.getAll('target').map(String).filter((t) => t === 'production' || t === 'preview');
    if (targets.length === 0) return { ok: false, message: 'Choose at least one environment.' };
    for (const target of targets) {
      await command('POST', `/api/projects/${seg(project)}/env`, { name, value: String(form.get('value') ?? ''), target, sensitive: form.get('sensitive') === 'on' });
    }
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${name} saved for ${targets.join(' and ')}. Redeploy to use it.` };
  });
}

export async function removeEnvVarAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const name = text(form, 'name');
    await command('DELETE', `/api/projects/${seg(project)}/env/${seg(name)}?target=${seg(text(form, 'target'))}`);
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${name} removed.` };
  });
}

export async function rollbackAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const to = text(form, 'to');
    const reason = text(form, 'reason');
    await command('POST', `/api/projects/${seg(project)}/rollback`, { ...(to ? { to } : {}), ...(reason ? { reason } : {}) });
    revalidatePath(`/projects/${project}`);
    return { ok: true, message: 'Rollback requested. Production switches in a moment, with no rebuild.' };
  });
}

export async function promoteAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const reason = text(form, 'reason');
    await command<{ kind: 'promote'; deploymentId: string }>('POST', `/api/deployments/${seg(text(form, 'deploymentId'))}/promote`, reason ? { reason } : {});
    return { ok: true, message: 'Promotion requested. Production switches in a moment, with no rebuild.' };
  });
}

export async function redeployAction(_: ActionState, form: FormData): Promise<ActionState> {
  let next: string | null = null;
  const state = await run(form, async () => {
    const settings = text(form, 'settings') === 'source' ? 'source' : 'current';
    const target = text(form, 'target') === 'production' ? { target: 'production' } : {};
    const out = await command<{ deploymentId: string }>('POST', `/api/deployments/${seg(text(form, 'deploymentId'))}/redeploy`, { settings, ...target });
    next = `/deployments/${out.deploymentId}`;
    return { ok: true, message: 'Redeploy requested.' };
  });
  if (next) redirect(next);
  return state;
}

export async function addDomainAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const host = text(form, 'host').toLowerCase();
    const redirectTo = text(form, 'redirectTo');
    await command('POST', `/api/projects/${seg(project)}/domains`, { host, alias: text(form, 'alias') || 'production', ...(redirectTo ? { redirectTo } : {}) });
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${host} added. Its certificate is being requested.` };
  });
}

export async function removeDomainAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const host = text(form, 'host');
    await command('DELETE', `/api/projects/${seg(project)}/domains/${seg(host)}`);
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${host} removed.` };
  });
}

export async function addMountAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const prefix = text(form, 'prefix');
    const mounted = text(form, 'mounted');
    await command('POST', `/api/projects/${seg(project)}/mounts`, { prefix, project: mounted });
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${prefix} is served by ${mounted}. Build ${mounted} with basePath '${prefix}'.` };
  });
}

export async function removeMountAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const prefix = text(form, 'prefix');
    await command('DELETE', `/api/projects/${seg(project)}/mounts?prefix=${seg(prefix)}`);
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: `${prefix} is served by ${project} again.` };
  });
}

export async function createSubscriptionAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    const description = text(form, 'description');
    const created = await command<{ subscriptionId: string; signingSecret: string }>('POST', `/api/projects/${seg(project)}/subscriptions`, {
      targetUrl: text(form, 'targetUrl'),
      eventPattern: text(form, 'eventPattern') || '{"source":[{"prefix":"shiplog."}]}',
      ...(description ? { description } : {}),
    });
    revalidatePath(`/projects/${project}/settings`);
    // The signing secret is shown this once; shiplog keeps it encrypted and never shows it again.
    return {
      ok: true,
      message: `Subscription ${created.subscriptionId} created. Verify deliveries' x-shiplog-signature-256 with this secret (shown once): ${created.signingSecret}`,
    };
  });
}

export async function removeSubscriptionAction(_: ActionState, form: FormData): Promise<ActionState> {
  return run(form, async () => {
    const project = text(form, 'project');
    await command('DELETE', `/api/projects/${seg(project)}/subscriptions/${seg(text(form, 'subscriptionId'))}`);
    revalidatePath(`/projects/${project}/settings`);
    return { ok: true, message: 'Subscription removed.' };
  });
}
