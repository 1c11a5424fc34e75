import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { authPort, currentSession } from '../../lib/auth/index.ts';
import { SignInForm } from '../../components/sign-in-form.tsx';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = typeof params.next === 'string' && params.next.startsWith('/') ? params.next : '/';
  if (await currentSession()) redirect(next);
  const method = authPort().method;
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
        {method === 'password' ? (
          <>
            <p className="muted">
              Use the admin credential <code>shiplog dev</code> printed when it first started (or the one set with <code>SHIPLOG_ADMIN_PASSWORD</code>).
            </p>
            <SignInForm next={next} />
          </>
        ) : (
          <p className="muted">This dashboard signs in through its identity provider.</p>
        )}
      </div>
    </main>
  );
}
