/**
 * Sets `key` in `map` as its newest entry and drops the oldest entries beyond `max` (a Map keeps
 * insertion order): what a process keeps of the ids it has met lately, with its memory bounded.
 *
 * @example
 * const paths = new Map<string, string>();
 * keepRecent(paths, 'd1', '/health', 1000);
 */
export const keepRecent = <K, V>(map: Map<K, V>, key: K, value: V, max: number): void => {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
};
