/**
 * Error codes AWS services use for throttling; the AWS SDKs' retry strategies treat the same list
 * as throttling. SDK v3 errors are named after their code, so an error's `name` (the span's
 * `exception.type`) is one of these when a call was throttled.
 */
export const AWS_THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'KMSThrottlingException',
]);
