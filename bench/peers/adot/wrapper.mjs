// ADOT's ESM entry (lambda-layer/packages/layer/src/wrapper.mjs), redone: register
// import-in-the-middle's hook for the modules the SDK asks for only, then load the bundled SDK.
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
await waitForAllMessagesAcknowledged();
await import('./wrapper.js');
