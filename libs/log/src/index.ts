// Structured logs: one pino logger per service, children carry the model name and version on every line.
import { pino, type Logger } from 'pino';

export type { Logger };

/** `level` comes from the configuration (KILN_LOG_LEVEL, read by @kiln/config) or the test. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}

/** The logger of a process running several services: each service logs through `child({ service })`, so lines
 * carry one `service` key (a service logger's child would repeat it). */
export function createProcessLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, base: {} });
}

/** A child logger whose every line names the model version it is about. */
export function forVersion(log: Logger, model: string, version?: number): Logger {
  return log.child(version === undefined ? { model } : { model, version });
}
