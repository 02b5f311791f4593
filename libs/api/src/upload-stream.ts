// The client-streaming shape that UploadModel and InferContractFromUpload share: a header first, then chunks of an
// archive. Read here once, so both services validate, end and cancel uploads the same way.
import { Readable } from 'node:stream';
import type { ArchiveFormat } from '@kiln/archive';
import { invalidArgument, KilnError } from '@kiln/errors';
import { countUploadBytes } from './upload-gc';

const ARCHIVE_FORMATS: Record<string, ArchiveFormat> = {
  ARCHIVE_FORMAT_UNSPECIFIED: 'auto',
  ARCHIVE_FORMAT_TAR: 'tar',
  ARCHIVE_FORMAT_TAR_GZ: 'tar.gz',
  ARCHIVE_FORMAT_FILE: 'file',
};

/** The archive reader's format for a kiln.v1.ArchiveFormat value. */
export function archiveFormat(format: unknown, where: string): ArchiveFormat {
  const known = ARCHIVE_FORMATS[String(format)];
  if (!known) throw invalidArgument(`unknown archive format ${format}`, where);
  return known;
}

interface UploadMessage<H> {
  header?: H | null;
  chunk?: Buffer;
}

/**
 * Reads the header (which must come first) and returns it with the rest of the call as a byte stream. The stream
 * fails on a second header, and once the call's signal aborts: a cancelled call also ends its message stream, so
 * only a half-close is the end of the upload.
 */
export async function openUploadStream<H>(
  requests: AsyncIterable<UploadMessage<H>>,
  signal: AbortSignal,
  requestName: string,
): Promise<{ header: H; body: Readable }> {
  const messages = requests[Symbol.asyncIterator]();
  const first = await messages.next();
  if (first.done || !first.value.header) {
    throw invalidArgument('the first message must be the header', `${requestName}.header`);
  }
  const body = Readable.from(
    (async function* () {
      for (;;) {
        const next = await messages.next();
        if (signal.aborted) throw signal.reason instanceof KilnError ? signal.reason : new KilnError('CANCELLED', 'the client cancelled the call');
        if (next.done) return;
        if (next.value.header) throw invalidArgument('only the first message may be a header', `${requestName}.header`);
        const chunk = next.value.chunk;
        if (!chunk?.length) continue;
        countUploadBytes(chunk.length);
        yield chunk;
      }
    })(),
    // One message read ahead: gRPC's own stream already buffers, and each message here is a whole chunk.
    { highWaterMark: 1 },
  );
  // The reader sees the body's errors through its own iteration; once it has given up, a late error (the client
  // cancelling after a rejection) must not become an uncaught exception.
  body.on('error', () => {});
  return { header: first.value.header, body };
}
