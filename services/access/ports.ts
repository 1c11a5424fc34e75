/**
 * What a token may do. `admin` and `user` tokens act as themselves (`token:<name>`); only a
 * `dashboard` token may name the signed-in user it acts for (`x-shiplog-actor`).
 *
 * @example
 * const kind: TokenKind = 'dashboard';
 */
export type TokenKind = 'admin' | 'user' | 'dashboard';
export const TOKEN_KINDS: readonly TokenKind[] = ['admin', 'user', 'dashboard'];

/**
 * An API token as stored: never the token itself, only its SHA-256 (`hash`) and a short prefix
 * to recognise it by (`shp_AbC1…`).
 *
 * @example
 * { tokenId: '01J…', name: 'ci', kind: 'user', prefix: 'shp_AbC1', hash: '9f86…', createdAt: '…',
 *   createdBy: 'token:admin', lastUsedAt: null, revokedAt: null, revokedBy: null }
 */
export interface TokenRecord {
  tokenId: string;
  name: string;
  kind: TokenKind;
  prefix: string;
  /** Hex SHA-256 of the whole token. */
  hash: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** A token as listed: everything but its hash. */
export type TokenSummary = Omit<TokenRecord, 'hash'>;

/**
 * Where tokens are kept (a DynamoDB table locally and on AWS). Looked up by the hash of the
 * presented token; a revoked record stays, for the history.
 *
 * @example
 * const rec = await tokens.byHash(sha256Hex(presented));
 */
export interface TokenStore {
  /** Stores a new record; refuses (false) when its id or hash is taken. */
  put(record: TokenRecord): Promise<boolean>;
  byHash(hash: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  /** Marks a record revoked (once; a second revocation changes nothing). */
  revoke(tokenId: string, at: string, by: string): Promise<void>;
  /** Records the last use. */
  touch(tokenId: string, at: string): Promise<void>;
}

/**
 * Where a runtime keeps a token for one of its own parts (the hosted dashboard's, on AWS an SSM
 * SecureString that part alone reads). Written, never read back by the writer.
 *
 * @example
 * await holder.write('shp_…');
 */
export interface TokenHolder {
  write(token: string): Promise<void>;
}
