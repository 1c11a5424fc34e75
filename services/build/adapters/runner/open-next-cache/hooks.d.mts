// Types of hooks.mjs (plain JavaScript: it runs inside the build sandbox, uncompiled).
export declare const rewrite: (url: string, source: string) => { source: string; reason?: undefined } | { reason: string; source?: undefined } | undefined;
