/**
 * EventBridge event patterns for shiplog's in-process bus: validation with AWS's error texts and
 * matching with the semantics of event-ruler, the engine EventBridge runs. Checked against the
 * conformance corpus in `test/conformance/eventbridge-patterns` (real AWS answers plus the
 * engine's own verdicts).
 *
 * What "EventBridge semantics" means here, beyond the documented operators:
 * - A pattern is checked while it is read, so the first problem in document order is reported,
 *   syntax or not, in Jackson's or event-ruler's words (`Event pattern is not valid. Reason: …`).
 * - Paths join keys with dots: `{"a.b": […]}` and `{"a": {"b": […]}}` are the same field.
 * - Numbers compare as doubles over their full range (`[300]` matches `300.0`); a number a
 *   double cannot hold compares by its exact text, so raw JSON text matters (see `RawNumber`).
 * - Fields taken from objects inside an array must come from the same element; `exists: false`
 *   is judged against the elements chosen by the fields before it in path order.
 * - A field whose alternatives include numeric ones reads numbers as numbers, one with IP ones
 *   reads addresses as addresses; other alternatives of that field then see the converted value.
 * - Plain strings that are IP literals compare as addresses; `cidr` masks the base address.
 * - Wildcards with too many ways to match at once are refused ("Rule is too complex").
 *
 * @example
 * import { compilePattern } from './events/bus/pattern/index.ts';
 * const onBuild = compilePattern({ source: ['shiplog.build'], 'detail-type': ['BuildSucceeded'] });
 * onBuild(event); // boolean
 */
export { EVENT_ERROR_MESSAGE, InvalidEventError, InvalidEventPatternError, PATTERN_ERROR_PREFIX } from './errors.ts';
export { DuplicateKeyValues, parseJson, parseMembers, RawNumber } from './json.ts';
export type { JsonObject, JsonValue, ParseJsonOptions, RawMember } from './json.ts';
export { JsonSyntaxError } from './json-lexer.ts';
export {
  compilePattern,
  matches,
  parseEvent,
  parsePattern,
  Pattern,
  REQUIRED_EVENT_FIELDS,
  testEventPattern,
  validatePattern,
} from './pattern.ts';
export type { EventMatcher, TestEventPatternOptions } from './pattern.ts';
export { WILDCARD_COMPLEXITY_LIMIT } from './rule.ts';
