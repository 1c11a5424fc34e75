import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShiplog, type LocalShiplog } from '../../test/support/local-shiplog.ts';

// The real CLI (a process) against a real `shiplog dev`: refusals are one line on stderr, exit 1.
let sl: LocalShiplog;

beforeAll(async () => {
  sl = await startShiplog();
  expect(sl.cli(['projects', 'create', 'web', '--json']).status).toBe(0);
}, 120_000);
afterAll(() => sl?.stop());

describe('release commands, as a user runs them', () => {
  it('rollback prints the RollbackRejected reason and exits 1', () => {
    const r = sl.cli(['rollback', 'web']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^shiplog: rollback of web refused: .+\n$/);
    expect(r.stdout).toBe('');
  });

  it('deployments wait and logs --follow of an unknown deployment exit 1 at once with one line', () => {
    for (const args of [['deployments', 'wait', 'nope'], ['logs', 'nope', '--follow'], ['promote', 'nope']]) {
      const r = sl.cli(args, 20_000);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe('shiplog: no deployment "nope" (`shiplog deployments list <project>` lists them)\n');
    }
  });
});
