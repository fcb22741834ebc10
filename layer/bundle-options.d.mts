import type { BuildOptions } from 'esbuild';

/** The options of every bundle the layer ships (`minify: false` only for profiles). */
export function bundleOptions(options?: { minify?: boolean }): BuildOptions;
/** The options of the entry bundle, `otel-lambda-xray/lib.cjs`: plugins and externals included. */
export function libBundleOptions(options?: { minify?: boolean }): BuildOptions;
