import { describe, expect, it } from 'vitest';
import { localActor } from './actor.ts';

// A request's headers as the API reads them (`c.req.header(name)`).
const req = (headers: Record<string, string>) => ({ header: (name: string): string | undefined => headers[name] });

describe('localActor', () => {
  it('names the user a client sends, such as the dashboard\'s signed-in user', () =>
    expect(localActor(req({ 'x-shiplog-actor': 'local:admin' }))).toEqual({ kind: 'user', id: 'local:admin' }));

  it('falls back to the local user without a header, or with one that is not a plain id', () => {
    expect(localActor(req({}))).toEqual({ kind: 'user', id: 'local' });
    expect(localActor(req({ 'x-shiplog-actor': 'a b\nc' }))).toEqual({ kind: 'user', id: 'local' });
    expect(localActor(req({ 'x-shiplog-actor': 'x'.repeat(200) }))).toEqual({ kind: 'user', id: 'local' });
  });
});
