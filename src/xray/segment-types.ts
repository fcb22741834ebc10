/**
 * Shapes of the X-Ray segment document, as described by the published segment document schema
 * (`test/fixtures/xray/segment-document-schema.json`) and the fields the OpenTelemetry Collector's
 * `awsxray` exporter writes beyond it (`links`, `aws.cloudwatch_logs`, `aws.xray`, ...; the schema
 * does not forbid additional properties).
 */

/** A value that can be stored in an X-Ray annotation (the schema allows nothing else). */
export type XRayAnnotationValue = string | number | boolean;

/** `http` block: request and response of an HTTP server or client span. */
export interface XRayHttp {
  request?: {
    method?: string;
    url?: string;
    user_agent?: string;
    client_ip?: string;
    x_forwarded_for?: boolean;
  };
  response?: {
    status?: number;
    content_length?: number;
  };
}

/** `sql` block of a subsegment that queried an SQL database. */
export interface XRaySql {
  url?: string;
  connection_string?: string;
  sanitized_query?: string;
  database_type?: string;
  database_version?: string;
  driver_version?: string;
  user?: string;
  preparation?: string;
}

/** One CloudWatch Logs log group the segment's logs went to. */
export interface XRayLogGroup {
  log_group: string;
  arn?: string;
}

/** `aws` block: the AWS resource that ran the code, or the AWS call a subsegment made. */
export interface XRayAws {
  account_id?: string;
  operation?: string;
  region?: string;
  request_id?: string;
  queue_url?: string;
  table_name?: string;
  table_names?: string[];
  topic_arn?: string;
  function_name?: string;
  function_arn?: string;
  bucket_name?: string;
  key_name?: string;
  cloudwatch_logs?: XRayLogGroup[];
  ec2?: { instance_id?: string; availability_zone?: string; instance_size?: string; ami_id?: string };
  ecs?: {
    container?: string;
    container_id?: string;
    task_arn?: string;
    task_family?: string;
    cluster_arn?: string;
    container_arn?: string;
    availability_zone?: string;
    launch_type?: string;
  };
  eks?: { cluster_name?: string; pod?: string; container_id?: string };
  elastic_beanstalk?: { environment_name?: string; version_label?: string; deployment_id?: number };
  xray?: { sdk?: string; sdk_version?: string; auto_instrumentation?: boolean };
}

/** One frame of an exception's stack. */
export interface XRayStackFrame {
  path?: string;
  line?: number;
  label?: string;
}

/** One exception recorded in `cause.exceptions`. */
export interface XRayException {
  id: string;
  type?: string;
  message?: string;
  remote?: boolean;
  truncated?: number;
  skipped?: number;
  cause?: string;
  stack?: XRayStackFrame[];
}

/** `cause` object (the schema also allows a 16-hex exception id string, which we never emit). */
export interface XRayCause {
  working_directory?: string;
  paths?: string[];
  exceptions?: XRayException[];
}

/** A span link, as the collector's exporter writes it. */
export interface XRayLink {
  trace_id: string;
  id: string;
  attributes?: Record<string, unknown>;
}

/**
 * A segment or independent subsegment document, ready to be serialised and sent to the X-Ray
 * daemon or `PutTraceSegments`.
 */
export interface XRaySegmentDocument {
  name: string;
  id: string;
  trace_id: string;
  start_time: number;
  end_time?: number;
  in_progress?: boolean;
  /** Present, as `"subsegment"`, on independent subsegments only. */
  type?: 'subsegment';
  parent_id?: string;
  namespace?: 'aws' | 'remote';
  origin?: string;
  resource_arn?: string;
  user?: string;
  service?: { version?: string };
  fault?: boolean;
  error?: boolean;
  throttle?: boolean;
  cause?: XRayCause;
  http?: XRayHttp;
  aws?: XRayAws;
  sql?: XRaySql;
  annotations?: Record<string, XRayAnnotationValue>;
  metadata?: Record<string, Record<string, unknown>>;
  links?: XRayLink[];
  /** Embedded subsegments: the translator never nests, but the datagram splitter handles them. */
  subsegments?: XRaySegmentDocument[];
}
