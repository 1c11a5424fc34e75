/**
 * Why a token command was refused: `invalid` (400), `not-found` (404), `name-taken` (409).
 *
 * @example
 * throw new AccessRequestError('name-taken', 'a token named "ci" exists');
 */
export class AccessRequestError extends Error {
  override readonly name = 'AccessRequestError';
  constructor(
    readonly code: 'invalid' | 'not-found' | 'name-taken',
    message: string,
  ) {
    super(message);
  }

  /** The HTTP status this refusal answers with. */
  get status(): number {
    return { invalid: 400, 'not-found': 404, 'name-taken': 409 }[this.code];
  }
}
