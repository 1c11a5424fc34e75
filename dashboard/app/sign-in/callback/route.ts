import { redirect } from 'next/navigation';
import { completeRedirectSignIn } from '../../../lib/auth/index.ts';

// Where the identity provider sends the browser back with a code: signed in, or back to the sign-in page with why not.
export const dynamic = 'force-dynamic';

export async function GET(request: Request): Promise<never> {
  redirect(await completeRedirectSignIn(new URL(request.url).searchParams));
}
