/**
 * A small evaluator of identity-based IAM policies, for tests of what shiplog declares or
 * creates: Allow statements only (shiplog writes no Deny), `Action` and `Resource` with IAM's
 * wildcards (`*` any run of characters, colons and slashes included; `?` one character, matched
 * case-sensitively), and the condition operators shiplog uses (`StringEquals`, `StringLike`, `ArnLike`),
 * each key with any of its values, all keys of a statement together; a key the request lacks
 * fails its condition, as in IAM. Not modelled: `NotAction`/`NotResource`, policy variables,
 * `...IfExists`, resource-based policies and SCPs. moto evaluates no IAM and has no policy simulation.
 */

/**
 * One IAM policy statement, as IAM's JSON has it (`Action`/`Resource` as a string or a list).
 *
 * @example
 * const s: Statement = { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: 'arn:aws:ssm:eu-west-1:1:parameter/x/*' };
 */
export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * One request to evaluate: the action, the resource ARN and the request's condition keys.
 *
 * @example
 * const r: Request = { action: 'kms:Decrypt', resource: keyArn, context: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } };
 */
export interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/**
 * IAM's wildcard match: `*` any run of characters, `?` one character.
 *
 * @example
 * iamMatches('arn:aws:s3:::b/artifacts/web/*', 'arn:aws:s3:::b/artifacts/web/d1/x'); // true
 */
export const iamMatches = (pattern: string, value: string, ignoreCase = false): boolean =>
  new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'i' : '')
    .test(value);

const operators: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (e, a) => e === a,
  StringLike: (e, a) => iamMatches(e, a),
  ArnLike: (e, a) => iamMatches(e, a),
  ArnEquals: (e, a) => e === a,
};

const conditionHolds = (condition: Statement['Condition'], context: Record<string, string>): boolean =>
  Object.entries(condition ?? {}).every(([op, keys]) => {
    const test = operators[op];
    if (!test) throw new Error(`iam-policy: condition operator ${op} is not modelled`);
    return Object.entries(keys).every(([key, expected]) => {
      const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
      return actual !== undefined && list(expected).some((e) => test(e, actual));
    });
  });

/**
 * Whether the statements allow the request (an explicit allow whose action, resource and
 * conditions all match; action names match case-insensitively, as in IAM).
 *
 * @example
 * isAllowed(statements, { action: 's3:PutObject', resource: 'arn:aws:s3:::b/artifacts/docs/d1/x' }); // false
 */
export const isAllowed = (statements: readonly Statement[], request: Request): boolean =>
  statements.some((s) =>
    s.Effect === 'Allow'
    && list(s.Action).some((a) => iamMatches(a, request.action, true))
    && list(s.Resource).some((r) => iamMatches(r, request.resource))
    && conditionHolds(s.Condition, request.context ?? {}));
