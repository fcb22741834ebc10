import type { Attributes } from '@opentelemetry/api';
import { ResourceEntriesCache } from './annotations.js';
import { AttributeReader } from './attribute-reader.js';
import { awsOrigin, type ResourceAws, resourceAwsOf } from './aws-block.js';

/**
 * What the translation reads from a span's resource, worked out once per resource rather than
 * for every document: in Lambda every span of the process shares one resource, and after the
 * process was frozen between invocations each piece of code run costs many times its warm cost.
 */
export interface ResourceProfile {
  /** The resource's attributes, for the reads that are not worth caching. */
  readonly reader: AttributeReader;
  /** A segment's `origin`. */
  readonly origin: string | undefined;
  /** A segment's `service.version`. */
  readonly serviceVersion: string | undefined;
  /** The resource's part of the `aws` block. */
  readonly aws: ResourceAws;
  /** The resource's `otel.resource.*` annotations and metadata, per choice of indexed keys. */
  readonly entries: ResourceEntriesCache;
}

/**
 * Profiles by resource attributes object. The SDK's resource returns the same (memoized)
 * attributes object for its lifetime once its attributes have settled, and never changes it,
 * so the object identifies what was derived from it; a resource that hands out a fresh object
 * each time simply gets a fresh profile each time.
 */
const profiles = new WeakMap<Attributes, ResourceProfile>();

/** A span without a resource reads as one with no attributes; one shared object, so it caches. */
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** The profile of the resource whose attributes are `attributes`, made on first use. */
export function resourceProfileOf(attributes: Attributes | undefined): ResourceProfile {
  const key = attributes ?? NO_ATTRIBUTES;
  let profile = profiles.get(key);
  if (profile === undefined) {
    profile = makeProfile(key);
    profiles.set(key, profile);
  }
  return profile;
}

function makeProfile(attributes: Attributes): ResourceProfile {
  const reader = new AttributeReader(attributes);
  return {
    reader,
    origin: awsOrigin(reader),
    serviceVersion: reader.string('service.version', 'container.image.tag'),
    aws: resourceAwsOf(reader),
    entries: new ResourceEntriesCache(),
  };
}
