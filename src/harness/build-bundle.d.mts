/** Types of src/harness/build-bundle.mjs (plain JavaScript so that it runs without tsx). */
export declare const EXTERNAL_PACKAGES: string[];
/**
 * Builds the bundle into `outdir` (default `dist`); resolves to the entry file's path. With
 * `metafile: true` esbuild's metafile is written beside it as `metafile.json`.
 */
/** A release's launchers (bin/). */
export declare const RELEASE_BIN: string[];
/**
 * A release laid out under `root` (the bundle in `dist/`, the launchers in `bin/`, `bin/kiosk`
 * executable); resolves to the bundle's entry.
 */
export declare function layOutRelease(root: string, opts?: { metafile?: boolean }): Promise<string>;
export declare function buildBundle(outdir?: string, opts?: { metafile?: boolean }): Promise<string>;
/**
 * The start-up snapshot's entry (`kiosk.snapshot.cjs`) around a script bundle's body (a function
 * expression taking `exports, require, module, __filename, __dirname`).
 */
export declare function snapshotEntry(body: string): string;
