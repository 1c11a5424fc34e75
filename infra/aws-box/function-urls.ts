import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readText } from './http-body.ts';

// The box's stand-in for Lambda Function URL configurations. moto keeps one URL per function and
// ignores `Qualifier`, but a URL belongs to an alias (one per deployment, `d-<deployment>`), so
// the box answers Create/Get/Update/DeleteFunctionUrlConfig itself and the front door resolves a
// URL's host back to its function and alias. No URL is reachable over the network: the front door
// invokes the alias through the Lambda stand-in, as CloudFront does through its origin access control.

/** One Function URL: the function and qualifier (alias) it invokes, and how. */
export interface FunctionUrl {
  functionName: string;
  qualifier?: string;
  url: string;
  authType: string;
  invokeMode: string;
  created: string;
}

const nameOf = (nameOrArn: string) => {
  const m = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.+))?$/.exec(nameOrArn);
  return m ? { name: m[1]!, qualifier: m[2] } : { name: nameOrArn, qualifier: undefined };
};

/**
 * Function URLs by function and qualifier; `route` answers the Lambda API's `/2021-10-31/functions/<fn>/url`
 * requests (false for anything else), `resolve` maps a URL host to what it invokes.
 *
 * @example
 * const urls = functionUrlStandIn({ region: 'eu-west-1', account: '123456789012' });
 * if (await urls.route(req, res)) return;
 * urls.resolve('3f…e1.lambda-url.eu-west-1.on.aws'); // { functionName: 'shiplog-site-web', qualifier: 'd-01J…' }
 */
export const functionUrlStandIn = (opts: { region: string; account: string }) => {
  const byKey = new Map<string, FunctionUrl>();
  const byHost = new Map<string, FunctionUrl>();
  const reply = (res: ServerResponse, status: number, body: unknown, type?: string) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
    res.end(JSON.stringify(type ? { Type: 'User', Message: String(body), message: String(body) } : body));
  };
  const view = (u: FunctionUrl) => ({
    FunctionUrl: u.url, AuthType: u.authType, InvokeMode: u.invokeMode, CreationTime: u.created, LastModifiedTime: u.created,
    FunctionArn: `arn:aws:lambda:${opts.region}:${opts.account}:function:${u.functionName}${u.qualifier ? `:${u.qualifier}` : ''}`,
  });

  return {
    async route(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const url = new URL(req.url ?? '/', 'http://box');
      const m = /^\/2021-10-31\/functions\/([^/]+)\/url$/.exec(url.pathname);
      if (!m) return false;
      const fromPath = nameOf(decodeURIComponent(m[1]!));
      const qualifier = url.searchParams.get('Qualifier') ?? fromPath.qualifier;
      const key = `${fromPath.name}:${qualifier ?? ''}`;
      const have = byKey.get(key);
      const body = req.method === 'POST' || req.method === 'PUT' ? (JSON.parse((await readText(req)) || '{}') as { AuthType?: string; InvokeMode?: string }) : {};
      if (req.method === 'POST') {
        if (have) return reply(res, 409, `Failed to create function url config for [functionArn = ${key}]. Error message: FunctionUrlConfig exists for this Lambda function`, 'ResourceConflictException'), true;
        if (body.AuthType !== 'AWS_IAM' && body.AuthType !== 'NONE') return reply(res, 400, 'AuthType must be AWS_IAM or NONE', 'ValidationException'), true;
        const made: FunctionUrl = {
          functionName: fromPath.name, ...(qualifier ? { qualifier } : {}), authType: body.AuthType, invokeMode: body.InvokeMode ?? 'BUFFERED',
          url: `https://${randomBytes(16).toString('hex')}.lambda-url.${opts.region}.on.aws/`, created: new Date().toISOString(),
        };
        byKey.set(key, made);
        byHost.set(new URL(made.url).host, made);
        return reply(res, 201, view(made)), true;
      }
      if (!have) return reply(res, 404, `The resource you requested does not exist: ${key}`, 'ResourceNotFoundException'), true;
      if (req.method === 'GET') return reply(res, 200, view(have)), true;
      if (req.method === 'PUT') {
        Object.assign(have, body.AuthType ? { authType: body.AuthType } : {}, body.InvokeMode ? { invokeMode: body.InvokeMode } : {});
        return reply(res, 200, view(have)), true;
      }
      if (req.method === 'DELETE') {
        byKey.delete(key);
        byHost.delete(new URL(have.url).host);
        res.writeHead(204).end();
        return true;
      }
      return reply(res, 405, `${req.method} is not a Function URL operation`, 'ValidationException'), true;
    },
    /** What a Function URL's host invokes; undefined for a host no URL has. */
    resolve(host: string): FunctionUrl | undefined {
      return byHost.get(host.toLowerCase());
    },
  };
};

export type FunctionUrlStandIn = ReturnType<typeof functionUrlStandIn>;
