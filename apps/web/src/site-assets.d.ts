// The declaration of the module scripts/build-site.mjs generates as dist/site-assets.js (the page,
// its script and its stylesheet as strings, so that a bundler that follows JavaScript imports, like
// infra's esbuild, carries them inside handler.mjs). The build copies this file next to it.
import type { Asset } from './site.js';

/** The page served at `/`. */
export declare const page: Asset;
/** The hashed assets served at `/assets/<name>`. */
export declare const assets: Readonly<Record<string, Asset>>;
