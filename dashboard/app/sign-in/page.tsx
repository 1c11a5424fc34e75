import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { authPort, currentSession } from '../../lib/auth/index.ts';
import { SignInForm } from '../../components/sign-in-form.tsx';

export const metadata: Metadata = { title: 'Sign in' };

// Why a redirect sign-in came back without a session (`/sign-in?error=…`, lib/auth/index.ts).
const SIGN_IN_ERRORS: Record<string, string> = {
  expired: 'That sign-in took too long or did not start here. Sign in again.',
  denied: 'The identity provider did not sign you in.',
  refused: 'That sign-in could not be verified. Sign in again.',
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = typeof params.next === 'string' && params.next.startsWith('/') ? params.next : '/';
  if (await currentSession()) redirect(next);
  const auth = authPort();
  const error = typeof params.error === 'string' && Object.hasOwn(SIGN_IN_ERRORS, params.error) ? SIGN_IN_ERRORS[params.error] : undefined;
  return (
    <main className="signin">
      <div className="signin-card">
        <div className="brand large">
          <span className="brand-mark" aria-hidden>
            ▲
          </span>
          shiplog
        </div>
        <h1>Sign in</h1>
        {auth.method === 'password' ? (
          <>
            <p className="muted">
              Use the admin credential <code>shiplog dev</code> printed when it first started (or the one set with <code>SHIPLOG_ADMIN_PASSWORD</code>).
            </p>
            <SignInForm next={next} />
          </>
        ) : (
          <form action="/sign-in/start" method="get" className="stack">
            <p className="muted">This dashboard signs in through its identity provider.</p>
            <input type="hidden" name="next" value={next} />
            {error ? (
              <p className="form-message error" role="alert">
                {error}
              </p>
            ) : null}
            <button type="submit" className="button primary wide">
              Sign in with {auth.displayName}
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
