export { GET } from '../../../../../lib/server/log-stream.ts';
export const dynamic = 'force-dynamic';
