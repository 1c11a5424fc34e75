/** The text AWS puts in front of every pattern rejection reason. */
export const PATTERN_ERROR_PREFIX = 'Event pattern is not valid. Reason: ';

/** The message AWS gives when TestEventPattern refuses the event itself. */
export const EVENT_ERROR_MESSAGE = 'Parameter Event is not valid.';

/**
 * An event pattern EventBridge would refuse. `reason` is event-ruler's `JsonRuleCompiler.check()`
 * text (or AWS's own, for the wildcard complexity limit); `message` is what AWS returns.
 *
 * @example
 * try { parsePattern('{"a": []}'); } catch (e) {
 *   if (e instanceof InvalidEventPatternError) e.message; // 'Event pattern is not valid. Reason: Empty arrays are not allowed'
 * }
 */
export class InvalidEventPatternError extends Error {
  readonly code = 'InvalidEventPatternException';
  readonly reason: string;

  constructor(reason: string) {
    super(`${PATTERN_ERROR_PREFIX}${reason}`);
    this.name = 'InvalidEventPatternError';
    this.reason = reason;
  }
}

/**
 * An event TestEventPattern would refuse: not a JSON object, or missing one of the envelope
 * fields AWS requires (`id`, `account`, `source`, `time`, `region`, `detail-type`).
 *
 * @example
 * try { testEventPattern('{"source": ["x"]}', '"plain string"'); } catch (e) {
 *   if (e instanceof InvalidEventError) e.code; // 'ValidationException'
 * }
 */
export class InvalidEventError extends Error {
  readonly code = 'ValidationException';
  /** Why, for humans; AWS itself only says `Parameter Event is not valid.` */
  readonly detail: string;

  constructor(detail: string) {
    super(EVENT_ERROR_MESSAGE);
    this.name = 'InvalidEventError';
    this.detail = detail;
  }
}
