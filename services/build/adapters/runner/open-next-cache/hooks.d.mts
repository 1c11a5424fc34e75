// Types of hooks.mjs (plain JavaScript: it runs inside the build sandbox, uncompiled).
/** `source` when any function was routed; `reason` when any was left alone. */
export declare const rewrite: (url: string, source: string) => { source?: string; reason?: string } | undefined;
