// A grpc.health.v1 Check from outside a server: Kiln's image's health check and readiness waits.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { channelCredentials, type ClientTlsSettings } from './tls';

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export interface HealthCheckOptions {
  /** Default 2 s. */
  deadlineMs?: number;
  tls?: ClientTlsSettings;
  /** The name the server's certificate is checked against, when it is not the address's host (a loopback check). */
  serverName?: string;
}

/** The status (`SERVING`, `NOT_SERVING`, ...) `address` reports for `service` ('' is the server as a whole). */
export function checkHealth(address: string, service = '', options: HealthCheckOptions = {}): Promise<string> {
  const channelOptions = options.serverName ? { 'grpc.ssl_target_name_override': options.serverName, 'grpc.default_authority': options.serverName } : {};
  const client = new HealthClient(address, channelCredentials(options.tls), channelOptions);
  return new Promise<string>((resolve, reject) => {
    (client as unknown as Record<string, Function>).check(
      { service },
      { deadline: Date.now() + (options.deadlineMs ?? 2000) },
      (err: Error | null, res?: { status: string | number }) => {
        client.close();
        if (err) reject(err);
        else resolve(typeof res!.status === 'number' ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][res!.status] ?? String(res!.status)) : res!.status);
      },
    );
  });
}
