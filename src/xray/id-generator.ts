import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { randomId64 } from './ids.js';

/**
 * X-Ray trace IDs as `@opentelemetry/id-generator-aws-xray` makes them (the epoch second, then
 * random bits), and span IDs made the same way (64 random bits from `Math.random`, never all
 * zero) without the package's shared Buffer and its hex `toString`: a span ID is made for every
 * span, on the path of every invocation, where those Buffer calls are among the slowest steps.
 */
export class XRayIdGenerator extends AWSXRayIdGenerator {
  override generateSpanId(): string {
    return randomId64();
  }
}
