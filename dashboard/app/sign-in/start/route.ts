import { redirect } from 'next/navigation';
import { beginRedirectSignIn } from '../../../lib/auth/index.ts';

// The "Sign in with <provider>" button: off to the identity provider (the sign-in page for a password adapter).
export const dynamic = 'force-dynamic';

export async function GET(request: Request): Promise<never> {
  redirect(await beginRedirectSignIn(new URL(request.url).searchParams.get('next')));
}
