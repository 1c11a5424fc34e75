// The arguments of \`open-next build\` in both runners (the local packager and the CodeBuild
// buildspec). \`--dangerously-use-unsupported-next-version\`: OpenNext refuses a Next.js major
// past its support window, decided by today's date (Next 14 since Next 16 came out; a major newer
// than OpenNext knows, too), so an app that built yesterday would fail today. Next's own build has
// already succeeded by then; OpenNext's warning still reaches the build log.
export const unsupportedNextFlag = '--dangerously-use-unsupported-next-version';

/** @param {string} configPath */
export const openNextBuildArgs = (configPath) => ['build', '--config-path', configPath, unsupportedNextFlag];
