/**
 * Numbers the way event-ruler 2.x compares them: as IEEE doubles over their full range (the
 * documented ±5e9 / 6-decimal limits are not enforced by the engine, and the corpus follows the
 * engine). A pattern number that is not a finite double, or that underflows to zero, is refused.
 */

/**
 * Raised for a pattern number the engine cannot compare; event-ruler's own text.
 *
 * @example
 * new NumberRangeError('Cannot compare number : 1E309');
 */
export class NumberRangeError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NumberRangeError';
  }
}

const MANTISSA_HAS_DIGIT = /^[^eE]*[1-9]/;

/**
 * The double a pattern's number literal stands for, or `undefined` when the engine could not
 * compare it (overflow or underflow); such a literal then only matches the same text.
 *
 * @example
 * comparablePatternNumber('3.018e2'); // 301.8
 * comparablePatternNumber('2.0e422'); // undefined
 */
export const comparablePatternNumber = (text: string): number | undefined => {
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  if (n === 0 && MANTISSA_HAS_DIGIT.test(text)) return undefined;
  return n;
};

/**
 * Like {@link comparablePatternNumber} for an operand of `numeric` or `anything-but`, where an
 * incomparable number is an error.
 *
 * @example
 * patternNumber('1E-325'); // throws NumberRangeError('Cannot compare number : 1E-325')
 */
export const patternNumber = (text: string): number => {
  const n = comparablePatternNumber(text);
  if (n === undefined) throw new NumberRangeError(`Cannot compare number : ${text}`);
  return n;
};

/**
 * The double of a number found in an event, or `undefined` if it is not finite (then only its
 * text can match).
 *
 * @example
 * eventNumber('300.0'); // 300
 */
export const eventNumber = (text: string): number | undefined => {
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};
