import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';

const INVALID_SPAN_ID = '0000000000000000';

/**
 * X-Ray trace IDs as `@opentelemetry/id-generator-aws-xray` makes them (the epoch second, then
 * random bits), and span IDs made the same way (64 random bits from `Math.random`, never all
 * zero) without the package's shared Buffer and its hex `toString`: a span ID is made for every
 * span, on the path of every invocation, where those Buffer calls are among the slowest steps.
 */
export class XRayIdGenerator extends AWSXRayIdGenerator {
  override generateSpanId(): string {
    const id = hex32() + hex32();
    return id === INVALID_SPAN_ID ? '0000000000000001' : id;
  }
}

/** 32 random bits as 8 lowercase hex digits. */
function hex32(): string {
  return ((Math.random() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
}
