import { diag } from '@opentelemetry/api';

/**
 * Turns repeated export trouble into one warning per kind of trouble and process, then debug lines:
 * a collector that is down must not fill the function's logs with a line per invocation.
 */
export class ExportHealth {
  private readonly warned = new Set<string>();

  /** Reports a problem; the first of each kind is a warning, the rest are debug lines. */
  report(kind: 'failed' | 'slow' | 'late', message: string): void {
    if (this.warned.has(kind)) {
      diag.debug(message);
      return;
    }
    this.warned.add(kind);
    diag.warn(`${message} (further ${kind} exports are logged at debug level)`);
  }
}
