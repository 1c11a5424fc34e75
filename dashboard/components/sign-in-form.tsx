'use client';

import { useActionState } from 'react';
import { signInAction } from '../lib/server/actions.ts';

export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signInAction, null);
  return (
    <form action={action} className="stack">
      <input type="hidden" name="next" value={next} />
      <label className="label">
        Username
        <input name="username" autoComplete="username" defaultValue="admin" required />
      </label>
      <label className="label">
        Password
        <input name="password" type="password" autoComplete="current-password" required autoFocus />
      </label>
      {state && !state.ok ? (
        <p className="form-message error" role="alert">
          {state.message}
        </p>
      ) : null}
      <button type="submit" className="button primary wide" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
