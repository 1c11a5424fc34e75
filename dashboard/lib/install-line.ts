/**
 * The line of a build log that says which install ran (`install: <manager>, detected from …: <command>`
 * or `install: the project's command: …`), else undefined. Any stream: CodeBuild's log has it as
 * output of the buildspec, the local runner as a system line.
 *
 * @example
 * installOfLog([{ text: 'install: npm, detected from package-lock.json: npm ci (in .)' }]); // 'install: npm, detected from package-lock.json: npm ci (in .)'
 */
export const installOfLog = (lines: readonly { text: string }[]): string | undefined =>
  lines.find((l) => /^install: (?:\w+, detected from [^:]+: |the project's command: )\S/.test(l.text))?.text;
