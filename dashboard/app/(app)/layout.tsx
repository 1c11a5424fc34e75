import Link from 'next/link';
import type { ReactNode } from 'react';
import { requireSession } from '../../lib/auth/index.ts';
import { signOutAction } from '../../lib/server/actions.ts';

export default async function AppShell({ children }: { children: ReactNode }) {
  const session = await requireSession();
  return (
    <div className="shell">
      <header className="topbar">
        <div className="topbar-inner">
          <Link href="/" className="brand" aria-label="shiplog home">
            <span className="brand-mark" aria-hidden>
              ▲
            </span>
            shiplog
          </Link>
          <nav className="nav" aria-label="Main">
            <Link href="/">Projects</Link>
            <Link href="/events">Events</Link>
          </nav>
          <form action={signOutAction} className="signout">
            <input type="hidden" name="csrf" value={session.csrf} />
            <span className="who" title={`Signed in with ${session.user.provider}`}>
              {session.user.name}
            </span>
            <button type="submit" className="button ghost small">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
