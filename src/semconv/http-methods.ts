/**
 * The HTTP methods the semantic conventions know (`http.request.method`); any other is recorded as
 * `_OTHER`, so a client sending made-up methods cannot multiply span names.
 */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);
