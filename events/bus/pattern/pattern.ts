import { compileBranches } from './compile.ts';
import { InvalidEventError } from './errors.ts';
import { JsonLexer, JsonSyntaxError } from './json-lexer.ts';
import { parseJson, type JsonValue } from './json.ts';
import { matchEvent } from './match.ts';
import { buildRule, type CompiledRule } from './rule.ts';
import { ValueTokens } from './value-tokens.ts';

/**
 * A validated EventBridge event pattern, compiled for matching. Build one with
 * {@link parsePattern}; it is immutable and can be matched against any number of events.
 *
 * @example
 * const p = parsePattern('{"source": ["shiplog.build"]}');
 * matches(p, { source: 'shiplog.build' }); // true
 */
export class Pattern {
  /** @internal The compiled branches; not part of the public surface. */
  readonly rule: CompiledRule;

  /** @internal Use {@link parsePattern}. */
  constructor(rule: CompiledRule) {
    this.rule = rule;
    Object.freeze(this);
  }
}

/** Tests one event (a parsed JSON value) against a compiled pattern. */
export type EventMatcher = (event: unknown) => boolean;

/**
 * Parses and validates a pattern given as raw JSON text, exactly as EventBridge would; throws
 * `InvalidEventPatternError` (`Event pattern is not valid. Reason: …`) otherwise. Raw text is
 * authoritative: `300.0`, duplicate keys (the last wins) and huge integers keep their meaning.
 *
 * @example
 * parsePattern('{"detail": {"count": [{"numeric": [">", 0]}]}}');
 * parsePattern('{"a": []}'); // throws: Empty arrays are not allowed
 */
export const parsePattern = (raw: string): Pattern => new Pattern(buildRule(compileBranches(new JsonLexer(raw))));

const fromValue = (pattern: unknown): Pattern => {
  if (pattern instanceof Pattern) return pattern;
  return new Pattern(buildRule(compileBranches(new ValueTokens(pattern))));
};

/**
 * Validates an already-parsed pattern (as `JSON.stringify` would send it); throws
 * `InvalidEventPatternError` like {@link parsePattern}.
 *
 * @example
 * validatePattern({ source: ['shiplog.build'] });
 * validatePattern({ source: 'shiplog.build' }); // throws: "source" must be an object or an array
 */
export const validatePattern = (pattern: unknown): void => {
  fromValue(pattern);
};

/**
 * Compiles a pattern (raw JSON text, a parsed value, or a {@link Pattern}) once into a fast
 * predicate over events. Throws `InvalidEventPatternError` for an invalid pattern.
 *
 * @example
 * const isBuildSucceeded = compilePattern({ source: ['shiplog.build'], 'detail-type': ['BuildSucceeded'] });
 * events.filter(isBuildSucceeded);
 */
export const compilePattern = (pattern: string | Pattern | object): EventMatcher => {
  const { rule } = typeof pattern === 'string' ? parsePattern(pattern) : fromValue(pattern);
  return (event) => matchEvent(rule, event);
};

/**
 * Whether an event (a parsed JSON value; numbers may be {@link RawNumber}s) matches a pattern.
 *
 * @example
 * matches(parsePattern('{"detail": {"state": [{"anything-but": "failed"}]}}'), { detail: { state: 'ok' } }); // true
 */
export const matches = (pattern: Pattern, event: unknown): boolean => matchEvent(pattern.rule, event);

/**
 * Parses an event given as raw JSON text, keeping number text and repeated keys as EventBridge
 * sees them. Throws `InvalidEventError` unless it is a JSON object.
 *
 * @example
 * parseEvent('{"detail": {"n": 300.0}}');
 */
export const parseEvent = (raw: string): JsonValue => {
  let event: JsonValue;
  try {
    event = parseJson(raw, { duplicates: 'keep' });
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new InvalidEventError(e.reason);
    throw e;
  }
  if (typeof event !== 'object' || event === null || Object.getPrototypeOf(event) !== Object.prototype) {
    throw new InvalidEventError('the event is not a JSON object');
  }
  return event;
};

/** The envelope fields TestEventPattern insists on (`resources` is documented but not enforced). */
export const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/** Options of {@link testEventPattern}. */
export interface TestEventPatternOptions {
  /** Require the envelope fields, as AWS does (default true). Off, any JSON object is an event. */
  envelopeCheck?: boolean;
}

/**
 * `aws events test-event-pattern`: validates the pattern (throws `InvalidEventPatternError`),
 * then the event (throws `InvalidEventError`: a JSON object carrying {@link REQUIRED_EVENT_FIELDS}),
 * and says whether they match. Both are raw JSON text, which is authoritative.
 *
 * @example
 * testEventPattern(
 *   '{"source": ["shiplog.build"]}',
 *   '{"id": "1", "account": "1", "source": "shiplog.build", "time": "t", "region": "r", "detail-type": "x"}',
 * ); // true
 */
export const testEventPattern = (patternRaw: string, eventRaw: string, options: TestEventPatternOptions = {}): boolean => {
  const pattern = parsePattern(patternRaw);
  const event = parseEvent(eventRaw) as Record<string, unknown>;
  if (options.envelopeCheck !== false) {
    const missing = REQUIRED_EVENT_FIELDS.filter((f) => !Object.prototype.hasOwnProperty.call(event, f));
    if (missing.length > 0) throw new InvalidEventError(`the event lacks ${missing.join(', ')}`);
  }
  return matches(pattern, event);
};
