import { describe, expect, it } from 'vitest';
import { OUTBOX_FILTER, OUTBOX_STREAM_PARAMETERS, OUTBOX_TARGET_PARAMETERS } from '../aws/outbox.ts';
import { parseDeclaredPipe, readJsonPath, renderInputTemplate } from './pipe.ts';

const vars = { pipeName: 'p', pipeArn: 'arn:aws:pipes:eu-west-1:123456789012:pipe/p' };

describe('the Pipes stand-in target side', () => {
  it('reads JSONPaths of the Pipes subset', () => {
    const v = { a: { b: [1, { c: 'x' }] } };
    expect(readJsonPath(v, '$')).toBe(v);
    expect(readJsonPath(v, '$.a.b[1].c')).toBe('x');
    expect(readJsonPath(v, '$.a.missing.c')).toBeUndefined();
    expect(() => readJsonPath(v, '$..a')).toThrow(/unsupported JSONPath/);
  });

  it('renders a whole-object path as JSON, and a path inside a string literal as escaped text', () => {
    const event = { detail: { metadata: { id: '1' }, data: { n: 2 } }, id: 'x"y', n: 3 };
    expect(renderInputTemplate(OUTBOX_TARGET_PARAMETERS.inputTemplate, event, vars)).toBe(JSON.stringify(event.detail));
    expect(JSON.parse(renderInputTemplate('{"id": "<$.id>", "n": <$.n>, "d": "<$.detail>", "pipe": "<aws.pipes.pipe-name>", "lt": "a < b"}', event, vars))).toEqual({
      id: 'x"y',
      n: 3,
      d: JSON.stringify(event.detail),
      pipe: 'p',
      lt: 'a < b',
    });
    expect(() => renderInputTemplate('<$.nothing>', event, vars)).toThrow(/no value/);
  });

  it('reads the declared outbox parameters, and fills in the Pipes defaults', () => {
    const declared = {
      name: 'shiplog-ci-outbox',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      sourceParameters: { dynamodbStreamParameters: { ...OUTBOX_STREAM_PARAMETERS }, filterCriteria: { filters: [{ pattern: JSON.stringify(OUTBOX_FILTER) }] } },
      targetParameters: { ...OUTBOX_TARGET_PARAMETERS },
    };
    expect(parseDeclaredPipe(declared).sourceParameters.dynamodbStreamParameters).toEqual(OUTBOX_STREAM_PARAMETERS);
    const bare = parseDeclaredPipe({ name: 'p', sourceParameters: { dynamodbStreamParameters: { startingPosition: 'LATEST' } }, targetParameters: {} });
    expect(bare.sourceParameters.dynamodbStreamParameters).toEqual({ startingPosition: 'LATEST', batchSize: 100, maximumRetryAttempts: -1 });
    const badFilter = { ...declared, sourceParameters: { ...declared.sourceParameters, filterCriteria: { filters: [{ pattern: '{"eventName": "INSERT"}' }] } } };
    expect(() => parseDeclaredPipe(badFilter)).toThrow(/Event pattern is not valid/);
  });
});
