/** The arguments of `open-next build` in both runners (see open-next-args.mjs). */
export declare const unsupportedNextFlag: string;
export declare const openNextBuildArgs: (configPath: string) => string[];
