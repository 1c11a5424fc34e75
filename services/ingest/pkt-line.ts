/**
 * One ref update of a push: `<old> <new> <ref>` from the start of a `git-receive-pack` request.
 *
 * @example
 * const u: RefUpdate = { before: '0000…', after: '9fce…', ref: 'refs/heads/main' };
 */
export interface RefUpdate {
  before: string;
  after: string;
  ref: string;
}

/**
 * What the start of a receive-pack request says: the ref updates and the client's capabilities.
 * `complete` is false while the command list has not ended yet (feed more bytes).
 *
 * @example
 * const { updates, capabilities } = parseReceivePackCommands(head);
 */
export interface ReceivePackCommands {
  updates: RefUpdate[];
  capabilities: string[];
  complete: boolean;
}

const COMMAND = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/;

/**
 * Parses the pkt-lines at the start of a receive-pack request body up to the first flush
 * (`0000`): `shallow` lines, then commands, the first carrying capabilities after a NUL. Inside a
 * signed push (`push-cert`) the command lines are found the same way.
 *
 * @example
 * parseReceivePackCommands(Buffer.from('0067' + old + ' ' + sha + ' refs/heads/main\0report-status\n0000'));
 */
export const parseReceivePackCommands = (buf: Buffer): ReceivePackCommands => {
  const updates: RefUpdate[] = [];
  let capabilities: string[] = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    const len = Number.parseInt(buf.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(len)) break;
    if (len === 0) return { updates, capabilities, complete: true };
    if (len < 4 || at + len > buf.length) break;
    let line = buf.subarray(at + 4, at + len).toString('utf8');
    at += len;
    const nul = line.indexOf('\0');
    if (nul >= 0) {
      capabilities = line.slice(nul + 1).trim().split(' ').filter(Boolean);
      line = line.slice(0, nul);
    }
    const m = COMMAND.exec(line.replace(/\n$/, ''));
    if (m) updates.push({ before: m[1]!, after: m[2]!, ref: m[3]! });
  }
  return { updates, capabilities, complete: false };
};

// The payloads of the pkt-lines in a buffer; flush (0000), delimiter and end packets are skipped.
function* pktLines(buf: Buffer): Generator<Buffer> {
  let at = 0;
  while (at + 4 <= buf.length) {
    const len = Number.parseInt(buf.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(len) || (len >= 4 && at + len > buf.length)) return;
    if (len < 4) {
      at += 4;
      continue;
    }
    yield buf.subarray(at + 4, at + len);
    at += len;
  }
}

/**
 * The per-ref result of a push from receive-pack's reply (`report-status` or `report-status-v2`,
 * inside side-band channel 1 when side-band was negotiated): `ok`, or the reason a ref was refused.
 * Undefined when the reply holds no report (the client did not ask for one).
 *
 * @example
 * parseReportStatus(reply, true)?.get('refs/heads/main'); // 'ok'
 */
export const parseReportStatus = (reply: Buffer, sideband: boolean): Map<string, string> | undefined => {
  const inner = sideband ? Buffer.concat([...pktLines(reply)].filter((p) => p[0] === 1).map((p) => p.subarray(1))) : reply;
  const status = new Map<string, string>();
  let reported = false;
  for (const line of pktLines(inner)) {
    const text = line.toString('utf8').replace(/\n$/, '');
    if (text.startsWith('unpack ')) reported = true;
    const m = /^(ok|ng) (\S+)(?: (.*))?$/.exec(text);
    if (m) status.set(m[2]!, m[1] === 'ok' ? 'ok' : (m[3] ?? 'refused'));
  }
  return reported ? status : undefined;
};

/**
 * Progress messages on side-band channel 2, which a git client prints as `remote: …`.
 *
 * @example
 * res.write(sidebandMessages(['Deployment 01JD… requested']));
 */
export const sidebandMessages = (lines: readonly string[]): Buffer =>
  Buffer.concat(
    lines.map((line) => {
      const payload = Buffer.concat([Buffer.from([2]), Buffer.from(`${line}\n`, 'utf8')]);
      return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0'), 'latin1'), payload]);
    }),
  );
