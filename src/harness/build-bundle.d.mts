/** Types of src/harness/build-bundle.mjs (plain JavaScript so that it runs without tsx). */
export declare const EXTERNAL_PACKAGES: string[];
/** Builds the bundle into `outdir` (default `dist`); resolves to the entry file's path. */
export declare function buildBundle(outdir?: string): Promise<string>;
