import { readdirSync, readFileSync } from 'node:fs';

/**
 * Whether a process with this pid exists (signal 0 reaches it; a zombie counts).
 *
 * @example
 * await rt.stop();
 * expect(isAlive(childPid)).toBe(false);
 */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Each live process's children, from /proc (a process that exits meanwhile is left out).
const children = (): Map<number, number[]> => {
  const out = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(ppid, [...(out.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  return out;
};

/**
 * A process and every process under it that is still running, from /proc (Linux): the root first.
 *
 * @example
 * processTree(sl.pid); // [4242, 4250, 4251]
 */
export const processTree = (root: number): number[] => {
  const kids = children();
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of kids.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
};
