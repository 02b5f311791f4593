// Sink: an image as a `docker load` archive (`docker save`'s layout: manifest.json, the config, one file per layer),
// streamed, for Docker engines that cannot pull it (no registry between them) and that load no OCI archives (< 25).
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { digestHex } from '../digest';
import type { Image } from '../types';

const EPOCH = new Date(0);

/** The archive's bytes; `docker load` names the image by `repoTags` (`kiln:latest`). */
export function dockerArchive(image: Image, repoTags: readonly string[]): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  const file = (name: string, size: number, body: Buffer | Readable) =>
    new Promise<void>((resolve, reject) => {
      const header = { name, size, mtime: EPOCH, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' };
      if (Buffer.isBuffer(body)) {
        pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
        return;
      }
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      pipeline(body, entry as unknown as NodeJS.WritableStream).catch(reject);
    });
  const fill = async () => {
    const configName = `blobs/sha256/${digestHex(image.configBlob.digest)}`;
    await file(configName, image.rawConfig.length, image.rawConfig);
    const layers: string[] = [];
    for (const layer of image.layers) {
      const name = `blobs/sha256/${digestHex(layer.digest)}`;
      if (!layers.includes(name)) await file(name, layer.size, layer.open());
      layers.push(name);
    }
    const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: layers }]));
    await file('manifest.json', manifest.length, manifest);
    pack.finalize();
  };
  pack.on('data', (chunk: unknown) => {
    if (!out.write(chunk as Buffer)) pack.pause();
  });
  out.on('drain', () => pack.resume());
  pack.on('end', () => out.end());
  pack.on('error', (err: Error) => out.destroy(err));
  fill().catch((err) => {
    out.destroy(err);
    pack.destroy();
  });
  return out;
}
