/** How each setup was configured, with sources: printed under the results so every figure can be checked. */
export const FOOTNOTES: readonly string[] = [
  '### How each setup is configured',
  '',
  'Every setup runs the same function code in the same local Lambda (the real `aws-lambda-ric`, the Runtime API emulator, ' +
    'SIGSTOP between invocations), with the environment Lambda gives a function with active tracing on ' +
    '(`AWS_XRAY_DAEMON_ADDRESS` pointing at a UDP socket of the benchmark, `AWS_XRAY_CONTEXT_MISSING=LOG_ERROR`) and a sampled ' +
    '`Lambda-Runtime-Trace-Id` header on every invocation. The realistic event carries no trace header of its own, so the ' +
    "only parent on offer is Lambda's.",
  '',
  '- **no tracing**: the function alone, no exec wrapper, an empty /opt.',
  '- **otel-lambda-xray**: this layer built by `node layer/build.mjs --out .tmp/bench`, `AWS_LAMBDA_EXEC_WRAPPER` = its ' +
    '`otel-handler`, defaults except the endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` = the OTLP/HTTP receiver, or the OTLP/gRPC ' +
    'receiver with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, as a function with a collector would set it) or, for the UDP row, ' +
    'nothing at all: with no collector extension and no OTLP variable the layer sends to the daemon by default.',
  '- **ADOT layer**: `@aws/aws-distro-opentelemetry-node-autoinstrumentation` laid out as the ADOT Node.js layer lays it out ' +
    '(aws-observability/aws-otel-js-instrumentation, `lambda-layer/packages/layer`): the SDK bundled into one minified `wrapper.js` ' +
    '(webpack there, esbuild here; `@aws-sdk`, `import-in-the-middle` and `require-in-the-middle` external, as in ' +
    '`webpack.config.js` and `install-externals.sh`), `wrapper.mjs` registering import-in-the-middle then loading it, and the ' +
    'exec wrapper `bench/peers/adot/otel-instrument` redone from `scripts/otel-instrument`: `OTEL_METRICS_EXPORTER` and ' +
    '`OTEL_LOGS_EXPORTER` = `none`, `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`, `OTEL_NODE_ENABLED_INSTRUMENTATIONS=aws-sdk,aws-lambda,http`, ' +
    "`OTEL_PROPAGATORS=baggage,tracecontext,xray`, `OTEL_AWS_APPLICATION_SIGNALS_ENABLED=true` (the script's default), the Lambda " +
    'resource attributes, `OTEL_SERVICE_NAME` = the function name, and `NODE_OPTIONS=--import wrapper.mjs` on Node 24 ' +
    '(`--require wrapper.js` for a CommonJS handler on Node 22). "As shipped" leaves the exporter to ADOT\'s Lambda default ' +
    '(`aws-opentelemetry-configurator.js`: OTLP protobuf spans, base64, over UDP to `AWS_XRAY_DAEMON_ADDRESS`); the OTLP/HTTP row ' +
    'sets `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, which is what switches it to http/protobuf towards a collector. Its default ' +
    'instrumentation list has no pg: its realistic-handler spans are the invocation, the HTTP call and the SQS call.',
  '- **OpenTelemetry layer**: `@opentelemetry/auto-instrumentations-node` driven as the OpenTelemetry Lambda layer drives its ' +
    'instrumentations (open-telemetry/opentelemetry-lambda, `nodejs/packages/layer`): exec wrapper `bench/peers/otel-lambda/otel-handler` ' +
    'redone from `scripts/otel-handler` (`NODE_OPTIONS=--import init.mjs`, `service.name`, `OTEL_PROPAGATORS=tracecontext,baggage,xray`), ' +
    "and `bench/peers/otel-lambda/init.mjs` redoing `init.mjs` + `wrapper.ts` + `loader.mjs`: the layer's default instrumentation list " +
    '(dns, express, graphql, grpc, hapi, http, ioredis, koa, mongodb, mysql, net, pg, redis) plus aws-sdk and aws-lambda, registered ' +
    'before the provider; awsLambda/env/process resource detectors; a BatchSpanProcessor on the OTLP http/protobuf exporter; ' +
    'import-in-the-middle only for an ESM handler. Differences: `getNodeAutoInstrumentations` loads every instrumentation package ' +
    'before filtering (the layer imports only the enabled ones, so its cold start is lower than here), and the metrics and logs ' +
    'providers are off (`OTEL_METRICS_EXPORTER=none`, `OTEL_LOGS_EXPORTER=none`; the layer starts both by default, which costs more). ' +
    'Installed unbundled, as the layer ships (`npm install --production` into /opt/nodejs).',
  '- **aws-xray-sdk**: `aws-xray-sdk` shipped in the function, used as its README shows: `captureHTTPsGlobal(http)` and `(https)`, ' +
    "`capturePostgres(require('pg'))` (handed to Sequelize as `dialectModule`), `captureAWSv3Client(new SQSClient())` " +
    '(`test/fixtures/functions/bench-*/xray.js`). In Lambda it continues the facade segment from `_X_AMZN_TRACE_ID` and streams ' +
    'each closed subsegment to the daemon over UDP; there is no invocation span of its own (Lambda writes that segment).',
];
