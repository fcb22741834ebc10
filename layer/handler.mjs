// The module `otel-handler` names in _HANDLER. The runtime imports it and awaits it: the top-level
// await lets the wrapper take the arity of the function's own handler before the runtime looks.
import { createRequire } from 'node:module';

const { loadWrappedHandler } = createRequire(import.meta.url)('./lib.cjs');

export const handler = await loadWrappedHandler();
