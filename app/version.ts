/**
 * The tapegrad version, read from deno.json at load time so that `--version`
 * and saved model files always agree with the package.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/** The package version, e.g. `"0.1.0"`. */
export const VERSION: string = config.version;
