import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { TokenHolder } from '../../ports.ts';

/**
 * A token kept in an SSM SecureString parameter under a KMS key (`keyId`: its id, ARN or
 * alias), overwritten on each write. The writer needs `ssm:PutParameter` and `kms:Encrypt`/
 * `kms:GenerateDataKey`, not the right to read it back.
 *
 * @example
 * const holder = ssmTokenHolder({ ssm: new SSMClient({}), name: '/shiplog/dashboard/api-token', keyId: 'alias/shiplog-secrets' });
 */
export const ssmTokenHolder = ({ ssm, name, keyId }: { ssm: SSMClient; name: string; keyId: string }): TokenHolder => ({
  write: async (token) => {
    await ssm.send(new PutParameterCommand({
      Name: name, Type: 'SecureString', KeyId: keyId, Value: token, Overwrite: true,
      Description: 'shiplog: an API token of the platform itself (rotated on each deploy)',
    }));
  },
});
