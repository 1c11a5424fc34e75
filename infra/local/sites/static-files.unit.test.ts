import { describe, expect, it } from 'vitest';
import { behaviorMatcher } from './static-files.ts';

// The behaviors OpenNext wrote for an app with basePath /docs and public files named with a space and an accent.
const behaviors = [
  { pattern: 'docs/_next/image*', origin: 'imageOptimizer' }, { pattern: 'docs/_next/data/*', origin: 'default' }, { pattern: '*', origin: 'default' },
  { pattern: 'docs/BUILD_ID', origin: 's3' }, { pattern: 'docs/_next/*', origin: 's3' }, { pattern: 'docs/big.bin', origin: 's3' },
  { pattern: 'docs/café.txt', origin: 's3' }, { pattern: 'docs/my file.txt', origin: 's3' },
];

describe('behaviorMatcher', () => {
  it('finds a public file by its name when the path is percent-encoded, as next start serves it', () => {
    const match = behaviorMatcher(behaviors);
    expect(match('/docs/my%20file.txt')).toBe('s3');
    expect(match('/docs/caf%C3%A9.txt')).toBe('s3');
    expect(match('/docs/my file.txt')).toBe('s3');
    expect(match('/docs/big.bin')).toBe('s3');
    // Not valid UTF-8 percent-encoding, another name, another folder: the server.
    expect(match('/docs/caf%E9.txt')).toBe('default');
    expect(match('/docs/my%20file.txt.bak')).toBe('default');
    expect(match('/my%20file.txt')).toBe('default');
    expect(match('/docs/_next/image?url=x')).toBe('imageOptimizer');
    expect(match('/docs/anything')).toBe('default');
  });
});
