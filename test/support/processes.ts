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
