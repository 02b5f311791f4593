// Opens the blob store that the configuration names: a local folder (the embedded default) or an S3 bucket.
import type { KilnConfig } from '@kiln/config';
import type { BlobStore } from './index';
import { LocalBlobStore } from './local';

/** The S3 store (and the AWS SDK, a good part of a service's start-up: bench/README.md) is loaded only when the
 * configuration names it. */
export async function openBlobStore(config: KilnConfig['blobs']): Promise<BlobStore> {
  if (config.kind === 'local') return new LocalBlobStore({ root: config.dir });
  const { S3BlobStore } = await import('./s3');
  // Credentials come from the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles).
  return new S3BlobStore({
    bucket: config.bucket,
    endpoint: config.endpoint,
    region: config.region,
    prefix: config.prefix,
    forcePathStyle: config.forcePathStyle,
    partSize: config.partSize,
    queueSize: config.partsInFlight,
    credentials: config.credentials,
  });
}
