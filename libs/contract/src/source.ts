// Random-access views of a model's files, so that format parsers read only the bytes they need (metadata) from a
// local file or from an object store with range reads, never the whole file.

export interface RandomAccessFile {
  /** The file's path inside the model (for error messages). */
  readonly path: string;
  /** The file's size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (fewer only at end of file). */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A model's files: a directory on disk, a stored version in the blob store, an uploaded archive. */
export interface ModelFiles {
  /** Every file, '/'-separated relative paths, sorted. */
  list(): Promise<Array<{ path: string; size: number }>>;
  /** Opens one file for random access; throws NOT_FOUND if absent. */
  open(path: string): Promise<RandomAccessFile>;
}
