// Test support: a tar archive in memory from entries, for tests that feed archives to readers and services.
import tar from 'tar-stream';

export type TarEntry = Partial<tar.Header> & { name: string; content?: Buffer };

export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  // Read while writing: the pack stream holds back entries until its output is consumed.
  const reading = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, content ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await reading;
  return Buffer.concat(chunks);
}
