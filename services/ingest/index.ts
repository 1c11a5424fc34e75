/**
 * The ingest service: the command side of shiplog. Projects, env vars, GitHub webhooks, the
 * shiplog git remote, and rollback / promote / redeploy requests, recorded as events.
 */
export { ingestCommands, localUser, type Credentials, type Ingest, type ProjectView, type PushOutcome } from './commands.ts';
export { decide, type Decision, type IngestCommand, type IngestNewEvent, type PushInput, type SettingsPatch } from './decider.ts';
export { evolve, initialState, activeEnv, envKey, type ProjectState, type EnvVarState } from './state.ts';
export { CommandRejectedError, SecretMissingError, type RejectionCode } from './errors.ts';
export * from './inputs.ts';
export * from './ports.ts';
export { aliasFor, branchOf, ignoreReason, isZeroSha, ProjectName, repositoryFrom, repositoryKey, repositoryKeys } from './rules.ts';
export { GithubPushPayload, payloadRepositoryKeys, pushFromGithub } from './github.ts';
export { GITHUB_MAX_PAYLOAD_BYTES, githubWebhooks, WebhookRejectedError, type GithubDelivery, type GithubDeliveryOutcome } from './webhook.ts';
export { gitPushes } from './git-push.ts';
export { localIngestDeps, LOCAL_SECRETS_TABLE } from './adapters/local/deps.ts';
export { createSecretsTable, dynamoSecretStore, secretsTableDefinition } from './adapters/local/secret-store.ts';
export { loadOrCreateSecretKey, SECRET_KEY_FILE } from './adapters/local/secret-key.ts';
export { localGitRepos } from './adapters/local/git-repos.ts';
export { storeProjectFinder } from './adapters/local/project-finder.ts';
