'use server';

import 'server-only';
import { revalidatePath } from 'next/cache';
import { ForbiddenError, guard } from '../auth/index.ts';
import type { ActionState } from '../action-state.ts';
import { command, CommandError } from './api.ts';

const text = (form: FormData, name: string): string => String(form.get(name) ?? '').trim();

/** Sets the project's production error-rate alarm (`POST /api/projects/:project/alarms`); the API checks the values. */
export async function setAlarmRuleAction(_: ActionState, form: FormData): Promise<ActionState> {
  try {
    await guard(form);
    const project = text(form, 'project');
    const percent = Number(text(form, 'maxErrorRatePercent'));
    const rule = {
      maxErrorRate: Number.isFinite(percent) ? percent / 100 : Number.NaN,
      windowSeconds: Number(text(form, 'windowSeconds')),
      minRequests: Number(text(form, 'minRequests')),
      autoRollback: form.get('autoRollback') === 'on',
      watchSeconds: Number(text(form, 'watchSeconds') || '600'),
    };
    await command<{ changed: boolean }>('POST', `/api/projects/${encodeURIComponent(project)}/alarms`, rule);
    revalidatePath(`/projects/${project}`);
    return { ok: true, message: 'Alarm rule saved. It applies to production from now on.' };
  } catch (err) {
    if (err instanceof ForbiddenError || err instanceof CommandError) return { ok: false, message: err.message };
    throw err;
  }
}
