/**
 * Where signing secrets live, encrypted (the same store as env var values: `put`/`get` of the
 * ingest `SecretStore` fit this port as they are). Events carry only a reference.
 *
 * @example
 * await secrets.put(signingSecretScope('s1'), SIGNING_SECRET_NAME, 1, secret);
 * const { value } = (await secrets.get(signingSecretScope('s1'), SIGNING_SECRET_NAME))!;
 */
export interface SigningSecrets {
  put(scope: string, name: string, version: number, value: string): Promise<void>;
  get(scope: string, name: string, version?: number): Promise<{ value: string; version: number } | undefined>;
}

/** The scope of a subscription's signing secret in `SigningSecrets`. */
export const signingSecretScope = (subscriptionId: string): string => `subscription#${subscriptionId}`;
export const SIGNING_SECRET_NAME = 'signing-secret';

/**
 * One webhook request: the exact body that was signed, and its headers.
 *
 * @example
 * await sender.send({ url: 'https://hooks.example.com/x', body, headers, timeoutMs: 10_000 });
 */
export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** What came back: a status, or no response at all (`statusCode: null`, with the error). */
export interface WebhookResponse {
  statusCode: number | null;
  error?: string;
  durationMs: number;
}

/**
 * Sends webhook requests. It never throws for a failed delivery: the outcome is recorded.
 *
 * @example
 * const res = await sender.send(request); // { statusCode: 200, durationMs: 31 }
 */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
