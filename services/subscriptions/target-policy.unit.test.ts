import { describe, expect, it } from 'vitest';
import { addressClass, allowNothing, checkResolved, checkTargetUrl, InvalidAllowListError, parseAllowList } from './target-policy.ts';

describe('addressClass', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'], ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'link-local'], ['169.254.0.1', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'], ['2001:db8::1', 'reserved'],
    // IPv4 inside IPv6: mapped, compatible, NAT64, 6to4
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'link-local'], ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'], ['::127.0.0.1', 'reserved'], ['64:ff9b::a9fe:a9fe', 'link-local'], ['64:ff9b::192.168.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'], ['2002:c0a8:101::1', 'private'],
    ['[::1]', 'loopback'], ['not-an-ip', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(addressClass(ip)).toBe(cls);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '169.255.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '2a00:1450::1'])(
    '%s is public',
    (ip) => {
      expect(addressClass(ip)).toBeUndefined();
    },
  );
});

describe('checkTargetUrl (the URL as written, at creation)', () => {
  const refused = (url: string, allow = allowNothing) => checkTargetUrl(new URL(url), allow);

  it('refuses internal IP literals in every form the URL parser normalizes', () => {
    for (const url of [
      'http://127.0.0.1:8080/x', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://10.0.0.5/', 'http://172.20.0.1/', 'http://192.168.0.1/',
      'http://100.64.1.1/', 'http://[fd00::1]/', 'http://0.0.0.0/', 'http://[::]/', 'http://224.0.0.1/', 'https://[::ffff:a9fe:a9fe]/',
    ]) {
      const v = refused(url);
      expect(v.ok, url).toBe(false);
      expect(v.ok ? '' : v.reason, url).toMatch(/address; name it in SHIPLOG_WEBHOOK_ALLOW/);
    }
    expect(refused('http://169.254.169.254/')).toEqual({ ok: false, reason: 'the target 169.254.169.254 is a link-local address; name it in SHIPLOG_WEBHOOK_ALLOW to allow it' });
  });

  it('passes public literals and host names (those are checked again, resolved, at delivery)', () => {
    expect(refused('https://8.8.8.8/hook')).toEqual({ ok: true });
    expect(refused('https://hooks.example.com/x')).toEqual({ ok: true });
    expect(refused('http://localhost:3000/')).toEqual({ ok: true });
  });

  it('refuses schemes other than http and https', () => {
    expect(refused('file:///etc/passwd').ok).toBe(false);
  });

  it('lets through what the allow-list names, by address, block or host', () => {
    const allow = parseAllowList('127.0.0.1, 10.1.0.0/16, hooks.internal, [::1]');
    expect(refused('http://127.0.0.1:9/', allow)).toEqual({ ok: true });
    expect(refused('http://10.1.200.3/', allow)).toEqual({ ok: true });
    expect(refused('http://[::1]:9/', allow)).toEqual({ ok: true });
    expect(refused('http://10.2.0.1/', allow).ok).toBe(false);
    expect(refused('http://127.0.0.2/', allow).ok).toBe(false);
    expect(refused('http://HOOKS.internal./x', allow)).toEqual({ ok: true });
  });
});

describe('checkResolved (every resolved address, at delivery)', () => {
  const url = new URL('https://hooks.example.com/x');

  it('refuses a name when any of its addresses is internal, and names it', () => {
    expect(checkResolved(url, ['93.184.216.34', '10.0.0.1'], allowNothing)).toEqual({
      ok: false, reason: 'hooks.example.com resolves to 10.0.0.1, a private address; name it in SHIPLOG_WEBHOOK_ALLOW to allow it',
    });
    expect(checkResolved(new URL('http://localhost:1/'), ['127.0.0.1'], allowNothing).ok).toBe(false);
    expect(checkResolved(url, ['::ffff:169.254.169.254'], allowNothing).ok).toBe(false);
    expect(checkResolved(url, [], allowNothing)).toEqual({ ok: false, reason: 'hooks.example.com resolves to no address' });
  });

  it('passes public addresses, and internal ones the allow-list names', () => {
    expect(checkResolved(url, ['93.184.216.34', '2606:2800:220:1::'], allowNothing)).toEqual({ ok: true });
    expect(checkResolved(new URL('http://localhost:1/'), ['127.0.0.1', '::1'], parseAllowList('127.0.0.0/8,::1'))).toEqual({ ok: true });
    expect(checkResolved(new URL('http://localhost:1/'), ['127.0.0.1', '::1'], parseAllowList('127.0.0.1')).ok).toBe(false);
    expect(checkResolved(new URL('http://localhost:1/'), ['127.0.0.1', '::1'], parseAllowList('localhost'))).toEqual({ ok: true });
  });
});

describe('parseAllowList', () => {
  it('reads hosts, addresses and blocks; empty allows nothing', () => {
    const allow = parseAllowList(' 127.0.0.1 ,,fd00::/8, Example.COM ');
    expect(allow.entries).toEqual(['127.0.0.1', 'fd00::/8', 'Example.COM']);
    expect([...allow.hosts]).toEqual(['example.com']);
    expect(allow.matchesAddress('fd00::1')).toBe(true);
    expect(allow.matchesAddress('127.0.0.2')).toBe(false);
    expect(parseAllowList(undefined).matchesAddress('127.0.0.1')).toBe(false);
  });

  it('refuses what is neither a host nor an address or block', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', 'http://x', 'a b', '::1/129', 'host/8']) {
      expect(() => parseAllowList(bad), bad).toThrow(InvalidAllowListError);
    }
  });
});
