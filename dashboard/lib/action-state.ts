/**
 * What a server action answers a form with: a message to show, and for some actions data the
 * page needs once (the credentials of a new project).
 *
 * @example
 * const [state, act] = useActionState(setEnvVar, idle);
 */
export type ActionState = { ok: boolean; message: string; data?: Record<string, string> } | null;

export const idle: ActionState = null;
