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
export { MAX_MOUNTS, overlappingMount, sortMounts } from './mounts.ts';
export { aliasFor, branchOf, ignoreReason, isZeroSha, ProjectName, repositoryFrom, repositoryKey, repositoryKeys } from './rules.ts';
export { GithubPushPayload, payloadRepositoryKeys, pushFromGithub } from './github.ts';
export { GITHUB_MAX_PAYLOAD_BYTES, githubWebhooks, WebhookRejectedError, type GithubDelivery, type GithubDeliveryOutcome } from './webhook.ts';
export { gitPushes } from './git-push.ts';
export { checkZip, MAX_UPLOAD_BYTES, UploadDeploymentInput, UploadId, UploadRequestInput } from './upload.ts';
export { parseReceivePackCommands, parseReportStatus, sidebandMessages, type RefUpdate } from './pkt-line.ts';
export { createSecretsTable, dynamoSecretStore, secretStoreOn, sealedInTable, secretsTableDefinition, type SecretVault } from './adapters/secret-store/local.ts';
export { awsSecretStore, parameterStoreVault, secretParameterName } from './adapters/secret-store/aws.ts';
export { loadOrCreateSecretKey, SECRET_KEY_FILE } from './adapters/secret-store/secret-key.ts';
export { localGitRepos } from './adapters/git-repos/local.ts';
export { storeProjectFinder } from './adapters/project-finder/store.ts';
