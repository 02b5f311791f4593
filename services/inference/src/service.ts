// The kiln.v1.Inference gRPC handlers: contracts of stored files (blob store), local paths, stored versions (asked of
// the registry), or a streamed archive (unpacked to a temp folder, streamed).
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { InferenceImplementation } from '@kiln/api/handlers';
import type { InferContractResponse } from '@kiln/api/generated/kiln/v1/InferContractResponse';
import { fromGrpcError, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { inferContract, localModelFiles, type InferredContract } from '@kiln/contract';
import { readArchive, type ArchiveLimits } from '@kiln/archive';
import { archiveFormat, openUploadStream } from '@kiln/api/upload-stream';
import { invalidArgument } from '@kiln/errors';
import { blobModelFiles, type RangeReader } from './blob-files';
import { allowedModelPath } from './paths';

export interface InferenceDeps {
  blobs: RangeReader;
  /** The registry, for InferContract on a stored version. */
  registry: () => RegistryClient;
  limits: ArchiveLimits;
  log: Logger;
  /** Folder for unpacking streamed archives. */
  tmpDir?: string;
  /** Folders InferContract may read by path (KILN_INFERENCE_PATH_ROOTS); none (the default) refuses every path. */
  pathRoots?: readonly string[];
}

function response(r: InferredContract): InferContractResponse {
  return { contract: r.contract, metadata: r.metadata, format: r.format };
}

export function inferenceHandlers(deps: InferenceDeps): InferenceImplementation {
  return {
    async InferContract(req, context) {
      const where = 'InferContractRequest';
      let result: InferredContract;
      switch (req.source) {
        case 'storedFiles':
          result = await inferContract(blobModelFiles(req.storedFiles?.files ?? [], deps.blobs), req.manifest);
          break;
        case 'path': {
          const p = await allowedModelPath(req.path ?? '', deps.pathRoots ?? [], `${where}.path`);
          result = await inferContract(await localModelFiles(p), req.manifest);
          break;
        }
        case 'modelVersion': {
          const ref = req.modelVersion!;
          const version = await promiseClient(deps.registry()).GetModelVersion({ model: ref.model, version: ref.version }, { signal: context.signal })
            .catch((err: unknown) => { throw fromGrpcError(err, `${where}.model_version`); });
          result = await inferContract(blobModelFiles(version.files, deps.blobs), req.manifest || version.manifest);
          break;
        }
        default:
          throw invalidArgument('give stored_files, path or model_version', `${where}.source`);
      }
      return response(result);
    },

    async InferContractFromUpload(requests, context) {
      const { header, body } = await openUploadStream(requests, context.signal, 'InferContractFromUploadRequest');
      const dir = await mkdtemp(path.join(deps.tmpDir ?? os.tmpdir(), 'kiln-infer-'));
      try {
        await readArchive(body, {
          format: archiveFormat(header.format, 'InferContractFromUploadRequest.header.format'),
          fileName: header.fileName || undefined,
          limits: deps.limits,
          // As for uploads to the registry: a stream cut short of what its header announced is refused, not read.
          expectedBytes: header.expectedSize,
          async onFile(file, content) {
            const target = path.join(dir, file.path);
            await mkdir(path.dirname(target), { recursive: true });
            await pipeline(content, createWriteStream(target));
          },
        });
        return response(await inferContract(await localModelFiles(dir), header.manifest));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
