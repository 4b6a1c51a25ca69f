// The module a codec suite runs against: QOLLECTIVE_MODULE names it and QOLLECTIVE_WASM gives its
// file (the Makefile passes both, from MODULES and <name>_WASM); default the client module.
// `make test-js` and `make test-conformance` run the codec suites once per module.
export const MODULE_FILES = {
  client: 'dist/qollective.wasm',
  codec: 'dist/qollective-codec.wasm',
  rest: 'dist/qollective-rest.wasm',
};
export const MODULE = process.env.QOLLECTIVE_MODULE || 'client';
const path = process.env.QOLLECTIVE_WASM || MODULE_FILES[MODULE];
if (!path) throw new Error(`QOLLECTIVE_MODULE=${MODULE}: set QOLLECTIVE_WASM to its file`);
export const WASM = new URL(`../../${path}`, import.meta.url);
// The glue a suite imports: QOLLECTIVE_GLUE names a built one (e.g. dist/qollective-codec.min.js,
// the codec glue, or dist/qollective-rest.min.js, the REST glue); default the source, js-glue/qollective.js.
export const GLUE_FILE = process.env.QOLLECTIVE_GLUE || 'js-glue/qollective.js';
export const GLUE = new URL(`../../${GLUE_FILE}`, import.meta.url);
