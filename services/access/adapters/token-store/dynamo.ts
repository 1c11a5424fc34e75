import {
  ConditionalCheckFailedException, GetItemCommand, QueryCommand, TransactionCanceledException, TransactWriteItemsCommand,
  UpdateItemCommand, type AttributeValue, type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createTableIfMissing, pkSkTableDefinition } from '../../../../events/store/index.ts';
import { keepRecent } from '../../../shell/index.ts';
import type { TokenKind, TokenRecord, TokenStore } from '../../ports.ts';

type Item = Record<string, AttributeValue>;
const RECORDS = 'token';
const hashKey = (hash: string) => `hash#${hash}`;

/**
 * Creates the tokens table unless it exists: `pk`/`sk` strings. `pk = token`, `sk = <tokenId>`
 * holds each record (listed with one query); `pk = hash#<sha256>` points at the record of a
 * hash. No item holds a token, only its hash and a short prefix.
 *
 * @example
 * await createTokensTable(client, 'shiplog-tokens');
 */
export const createTokensTable = (client: DynamoDBClient, tableName: string): Promise<void> =>
  createTableIfMissing(client, pkSkTableDefinition(tableName));

const s = (v: string | null): AttributeValue => (v === null ? { NULL: true } : { S: v });
const str = (v: AttributeValue | undefined): string | null => v?.S ?? null;

const toItem = (r: TokenRecord): Item => ({
  pk: { S: RECORDS }, sk: { S: r.tokenId }, name: { S: r.name }, kind: { S: r.kind }, prefix: { S: r.prefix }, hash: { S: r.hash },
  createdAt: { S: r.createdAt }, createdBy: { S: r.createdBy }, lastUsedAt: s(r.lastUsedAt), revokedAt: s(r.revokedAt), revokedBy: s(r.revokedBy),
});

const fromItem = (i: Item): TokenRecord => ({
  tokenId: i.sk!.S!, name: i.name!.S!, kind: i.kind!.S! as TokenKind, prefix: i.prefix!.S!, hash: i.hash!.S!,
  createdAt: i.createdAt!.S!, createdBy: i.createdBy!.S!, lastUsedAt: str(i.lastUsedAt), revokedAt: str(i.revokedAt), revokedBy: str(i.revokedBy),
});

/**
 * The token store on a DynamoDB table (DynamoDB Local in `shiplog dev`, a table on AWS).
 *
 * @example
 * const tokens = dynamoTokenStore({ client, tableName: 'shiplog-tokens' });
 */
export const dynamoTokenStore = ({ client, tableName }: { client: DynamoDBClient; tableName: string }): TokenStore => {
  const pointers = new Map<string, string>();
  const get = async (pk: string, sk: string): Promise<Item | undefined> =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }))).Item;

  const update = async (tokenId: string, expression: string, condition: string, values: Item): Promise<void> => {
    try {
      await client.send(new UpdateItemCommand({
        TableName: tableName, Key: { pk: { S: RECORDS }, sk: { S: tokenId } },
        UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeValues: values,
      }));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  };

  return {
    put: async (record) => {
      try {
        await client.send(new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: toItem(record), ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: tableName, Item: { pk: { S: hashKey(record.hash) }, sk: { S: RECORDS }, tokenId: { S: record.tokenId } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }));
        return true;
      } catch (err) {
        if (err instanceof TransactionCanceledException) return false;
        throw err;
      }
    },
    byHash: async (hash) => {
      // A hash names one token for ever (the pointer is written once, with the token, and never
      // changed): known pointers are kept, and a request reads only the token's record, which
      // says whether it is revoked now.
      let tokenId = pointers.get(hash);
      if (tokenId === undefined) {
        tokenId = (await get(hashKey(hash), RECORDS))?.tokenId?.S;
        if (!tokenId) return undefined;
        keepRecent(pointers, hash, tokenId, 1000);
      }
      const item = await get(RECORDS, tokenId);
      return item ? fromItem(item) : undefined;
    },
    list: async () => {
      const out: TokenRecord[] = [];
      let start: Item | undefined;
      do {
        const res = await client.send(new QueryCommand({
          TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: RECORDS } },
          ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}),
        }));
        out.push(...(res.Items ?? []).map(fromItem));
        start = res.LastEvaluatedKey;
      } while (start);
      return out;
    },
    revoke: (tokenId, at, by) =>
      update(tokenId, 'SET revokedAt = :at, revokedBy = :by', 'attribute_exists(pk) AND (attribute_not_exists(revokedAt) OR revokedAt = :null)', {
        ':at': { S: at }, ':by': { S: by }, ':null': { NULL: true },
      }),
    touch: (tokenId, at) => update(tokenId, 'SET lastUsedAt = :at', 'attribute_exists(pk)', { ':at': { S: at } }),
  };
};
