/**
 * One line of a build log.
 *
 * @example
 * const line: LogLine = { n: 1, at: '2026-11-22T10:00:00.000Z', stream: 'stdout', text: 'Compiled' };
 */
export interface LogLine {
  n: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/**
 * Where build logs live and how they are followed. Locally: a file per deployment plus
 * in-process listeners; on AWS: CloudWatch Logs (CodeBuild writes there).
 *
 * @example
 * const stop = logs.follow('d1', 0, (line) => print(line), () => done());
 */
export interface LogStore {
  append(deploymentId: string, stream: LogLine['stream'], text: string): void;
  /** Lines after line number `after` (0 = from the start). */
  read(deploymentId: string, after?: number): Promise<LogLine[]>;
  /** Marks the log complete: followers get `onEnd`. */
  close(deploymentId: string): void;
  isClosed(deploymentId: string): Promise<boolean>;
  /** Replays lines after `after`, then streams new ones until the log is closed. Returns an unsubscribe. */
  follow(deploymentId: string, after: number, onLine: (l: LogLine) => void, onEnd: () => void): () => void;
}
