// A stored version's files as random-access ModelFiles over the blob store (range reads), so format parsers read
// only the metadata bytes they need from S3 or the local store.
import { notFound } from '@kiln/errors';
import type { ModelFiles, RandomAccessFile } from '@kiln/contract';
import { byPath } from '@kiln/std';

export interface RangeReader {
  readRange(digest: string, offset: number, length: number): Promise<Buffer>;
}

export interface BlobFile {
  path: string;
  size: number;
  sha256: string;
}

export function blobModelFiles(files: BlobFile[], blobs: RangeReader): ModelFiles {
  const fileAt = new Map(files.map((f) => [f.path, f]));
  const listing = files.map((f) => ({ path: f.path, size: f.size })).sort(byPath);
  return {
    async list() {
      return listing;
    },
    async open(path: string): Promise<RandomAccessFile> {
      const f = fileAt.get(path);
      if (!f) throw notFound(`no file ${path} in the model`, path);
      return {
        path,
        size: f.size,
        read: (offset, length) => {
          const end = Math.min(f.size, offset + length);
          if (end <= offset) return Promise.resolve(Buffer.alloc(0));
          return blobs.readRange(f.sha256, offset, end - offset);
        },
      };
    },
  };
}
