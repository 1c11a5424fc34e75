import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { namespaceUnavailable } from '../../infra/local/dynamodb-local.ts';
import { startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { processTree } from '../support/processes.ts';

// Everything below reads /proc: which processes descend from `shiplog dev`, which socket inodes
// they hold, and which of those are listening TCP sockets in which network namespace.

const socketInodes = (pid: number): Set<string> => {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
};

// /proc/net/tcp holds addresses as host-order hex words: 0100007F = 127.0.0.1.
const ipv4 = (hex: string) => [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
const ipv6 = (hex: string) => {
  const bytes = [0, 1, 2, 3].flatMap((w) => [6, 4, 2, 0].map((i) => hex.slice(w * 8 + i, w * 8 + i + 2)));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(parseInt(bytes[i]! + bytes[i + 1]!, 16).toString(16));
  const text = groups.join(':');
  return text === '0:0:0:0:0:0:0:1' ? '::1' : text === '0:0:0:0:0:0:0:0' ? '::' : text.startsWith('0:0:0:0:0:ffff:') ? `::ffff:${text}` : text;
};

interface Listener {
  pid: number;
  command: string;
  address: string;
  port: number;
  /** The network namespace the socket lives in, as /proc/<pid>/ns/net names it. */
  netns: string;
}

const listeners = (pid: number): Listener[] => {
  const inodes = socketInodes(pid);
  const netns = readlinkSync(`/proc/${pid}/ns/net`);
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 2).join(' ');
  const out: Listener[] = [];
  for (const [file, parse] of [['tcp', ipv4], ['tcp6', ipv6]] as const) {
    const lines = readFileSync(`/proc/${pid}/net/${file}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      const [addr, port] = cols[1]!.split(':');
      if (cols[3] !== '0A' || !inodes.has(cols[9]!)) continue; // 0A = LISTEN
      out.push({ pid, command, address: parse(addr!), port: parseInt(port!, 16), netns });
    }
  }
  return out;
};

const loopback = (address: string) => /^127\./.test(address) || address === '::1' || /^::ffff:7f/.test(address);

describe('shiplog dev listens on loopback only', () => {
  let sl: LocalShiplog;
  let dbPort: number;

  beforeAll(async () => {
    const why = namespaceUnavailable();
    if (why) {
      throw new Error(`DynamoDB Local cannot be kept on loopback here (${why}): install bubblewrap and slirp4netns (bash .ci/run does)`);
    }
    sl = await startShiplog();
    // runtime.json is written once start-up is complete, just after /healthz first answers.
    const runtime = await vi.waitFor(() => JSON.parse(readFileSync(`${sl.dataDir}/runtime.json`, 'utf8')) as { dynamoEndpoint: string }, { timeout: 30_000, interval: 100 });
    dbPort = Number(new URL(runtime.dynamoEndpoint).port);
  }, 180_000);

  afterAll(async () => {
    await sl?.stop();
  });

  it('binds every TCP socket of its process tree in this network namespace to 127.0.0.1 or ::1', () => {
    const ours = readlinkSync('/proc/self/ns/net');
    const tree = processTree(sl.pid);
    const all = tree.flatMap(listeners);
    const here = all.filter((l) => l.netns === ours);

    // The API, the site router and DynamoDB Local's published port are all there …
    expect(here.map((l) => l.port)).toEqual(expect.arrayContaining([sl.port, sl.sitesPort, dbPort]));
    // … and nothing listens beyond this machine.
    expect(here.filter((l) => !loopback(l.address))).toEqual([]);
    // DynamoDB Local itself binds every interface, but of a network namespace of its own, which
    // only the 127.0.0.1 forward above reaches.
    const elsewhere = all.filter((l) => l.netns !== ours);
    expect(elsewhere.map((l) => l.port)).toEqual([dbPort]);
    expect(elsewhere[0]!.command).toMatch(/java/);
  });
});
