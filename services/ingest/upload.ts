import { z } from 'zod';
import { Branch, Target } from '../../events/index.ts';

/**
 * The largest uploaded source the API takes (a zip of an app's tracked files, no `node_modules`).
 *
 * @example
 * if (zip.length > MAX_UPLOAD_BYTES) throw new Error('too large');
 */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

/**
 * What `deployUpload` takes besides the archive: production or a preview (`shiplog deploy --prod`,
 * default preview as `vercel deploy`), the preview's branch (its alias), and a message.
 *
 * @example
 * UploadDeploymentInput.parse({ target: 'preview', branch: 'feature-x', message: 'shiplog deploy' });
 */
export const UploadDeploymentInput = z.strictObject({
  target: Target.default('preview'),
  branch: Branch.optional(),
  message: z.string().max(4096).default('shiplog deploy'),
});
export type UploadDeploymentInput = z.input<typeof UploadDeploymentInput>;
