import { describe, expect, it } from 'vitest';
import { parseReceivePackCommands, parseReportStatus, sidebandMessages } from './pkt-line.ts';
import { aliasFor, repositoryFrom, repositoryKey } from './rules.ts';

const own = { source: 'git', fullName: 'web', cloneUrl: '/data/git/web.git' } as const;

describe('ingest rules', () => {
  it('names preview aliases after the branch, as DNS-safe slugs with a hash when cut', () => {
    expect(aliasFor('production', 'main')).toBe('production');
    expect(aliasFor('preview', 'feature/Login_form')).toBe('preview-feature-login-form');
    const long = aliasFor('preview', `feature/${'x'.repeat(80)}`);
    expect(long).toMatch(/^preview-feature-x+-[0-9a-f]{6}$/);
    expect(long.length).toBeLessThanOrEqual(49);
    expect(aliasFor('preview', `feature/${'x'.repeat(80)}`)).not.toBe(aliasFor('preview', `feature/${'x'.repeat(81)}`));
  });

  it('normalizes the many spellings of one repository to one key', () => {
    for (const url of ['https://github.com/Acme/Web.git', 'git@github.com:acme/web.git', 'ssh://git@github.com/acme/web', 'git://github.com/acme/web.git', 'https://token@github.com:443/acme/web/']) {
      expect(repositoryKey(url)).toBe('github.com/acme/web');
    }
  });

  it('reads a project repo setting: GitHub, other git hosts, local paths, or the shiplog remote', () => {
    expect(repositoryFrom('https://github.com/Acme/Web.git', own)).toEqual({ source: 'github', fullName: 'Acme/Web', cloneUrl: 'https://github.com/Acme/Web.git' });
    expect(repositoryFrom('acme/web', own)).toEqual({ source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' });
    expect(repositoryFrom('https://gitlab.com/acme/web.git', own)).toEqual({ source: 'git', fullName: 'acme/web', cloneUrl: 'https://gitlab.com/acme/web.git' });
    expect(repositoryFrom('/home/ada/web', own)).toEqual({ source: 'git', fullName: 'web', cloneUrl: '/home/ada/web' });
    expect(repositoryFrom(undefined, own)).toBe(own);
  });
});

describe('receive-pack pkt-lines', () => {
  const pkt = (s: string) => `${(Buffer.byteLength(s) + 4).toString(16).padStart(4, '0')}${s}`;
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const z = '0'.repeat(40);

  it('reads the ref commands and capabilities up to the flush, skipping shallow lines', () => {
    const body = Buffer.from(pkt(`shallow ${a}\n`) + pkt(`${z} ${a} refs/heads/main\0 report-status side-band-64k agent=git/2.39\n`) + pkt(`${a} ${z} refs/heads/old\n`) + '0000PACK…');
    expect(parseReceivePackCommands(body)).toEqual({
      updates: [{ before: z, after: a, ref: 'refs/heads/main' }, { before: a, after: z, ref: 'refs/heads/old' }],
      capabilities: ['report-status', 'side-band-64k', 'agent=git/2.39'],
      complete: true,
    });
  });

  it('says when the command list is cut short', () => {
    const body = Buffer.from(pkt(`${a} ${b} refs/heads/main\0report-status\n`)).subarray(0, 30);
    expect(parseReceivePackCommands(body).complete).toBe(false);
  });

  it('reads receive-pack\'s verdict per ref, inside side-band channel 1 or bare', () => {
    const report = pkt('unpack ok\n') + pkt('ok refs/heads/main\n') + pkt('option forced-update\n') + pkt('ng refs/heads/x non-fast-forward\n') + '0000';
    const banded = Buffer.concat([Buffer.from(pkt('\x02progress\n'), 'latin1'), Buffer.from(pkt(`\x01${report.slice(0, 20)}`), 'latin1'), Buffer.from(pkt(`\x01${report.slice(20)}`), 'latin1'), Buffer.from('0000')]);
    const expected = new Map([['refs/heads/main', 'ok'], ['refs/heads/x', 'non-fast-forward']]);
    expect(parseReportStatus(banded, true)).toEqual(expected);
    expect(parseReportStatus(Buffer.from(report), false)).toEqual(expected);
    expect(parseReportStatus(Buffer.from(''), false)).toBeUndefined();
  });

  it('frames progress lines on side-band channel 2', () => {
    expect(sidebandMessages(['hi']).toString('latin1')).toBe('0008\x02hi\n');
  });
});
