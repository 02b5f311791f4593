// Benchmark: Kiln's contract inference against the frameworks' own loaders (python onnx.load, TensorFlow's SavedModel
// parse and tf.saved_model.load) on a ~1.5 GiB ONNX model, ONNX models with 1000 and 10000 initializers, and a
// SavedModel with a large saved_model.pb.
// Run: npx tsx bench/inference.ts   (needs python3 with onnx and tensorflow; writes ~1.8 GiB to a temp dir, removed after)
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelFiles } from '../libs/contract/src/source';
import { localModelFiles } from '../libs/contract/src/local-files';
import { onnxFormat } from '../libs/contract/src/onnx';
import { savedModelFormat } from '../libs/contract/src/savedmodel';
import type { ContractFormat } from '../libs/contract/src/format';
import { CountingFile } from '../libs/contract/src/wire';
import { syntheticOnnx, type Parts } from '../libs/contract/src/wire-testing';

const self = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(self), '..');
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- measuring Kiln (in a fresh child process)

async function measureKiln(kind: 'onnx' | 'savedmodel', dir: string): Promise<void> {
  const format: ContractFormat = kind === 'onnx' ? onnxFormat : savedModelFormat;
  const counters: CountingFile[] = [];
  const base = await localModelFiles(dir);
  const files: ModelFiles = {
    list: () => base.list(),
    async open(p) {
      const c = new CountingFile(await base.open(p));
      counters.push(c);
      return c;
    },
  };
  const rssBefore = process.memoryUsage().rss;
  const times: number[] = [];
  let signatures = 0;
  for (let i = 0; i < 7; i++) {
    counters.length = 0;
    const t0 = performance.now();
    const r = await format.infer(files);
    times.push(performance.now() - t0);
    signatures = r.contract.signatures.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(JSON.stringify({
    firstMs: times[0],
    medianMs: sorted[3],
    bytesRead: counters.reduce((n, c) => n + c.bytesRead, 0),
    reads: counters.reduce((n, c) => n + c.reads, 0),
    rssBeforeMiB: rssBefore / MiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    signatures,
  }));
}

function kiln(kind: 'onnx' | 'savedmodel', dir: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--measure', kind, dir], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kiln measure failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// ---------------------------------------------------------------- the reference: python, in a child process

const PY_MEASURE = `
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
kind, target, what = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "onnx":
    import onnx
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter(); m = onnx.load(target); dt = time.perf_counter() - t0
else:
    import tensorflow as tf
    from tensorflow.python.saved_model import loader_impl
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if what == "parse":
        sm = loader_impl.parse_saved_model(target)
    else:
        loaded = tf.saved_model.load(target, tags=["serve"])
    dt = time.perf_counter() - t0
print(json.dumps({"ms": dt * 1000, "baseRssMiB": base, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

function python(kind: string, target: string, what = '') {
  const r = spawnSync('python3', ['-c', PY_MEASURE, kind, target, what], { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`python ${kind} ${what} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// ---------------------------------------------------------------- generating the models

/** Streams a model described in Parts to disk (a number is that many bytes of tensor data). */
async function writeParts(file: string, parts: Parts): Promise<void> {
  const out = createWriteStream(file);
  const chunk = Buffer.alloc(4 * MiB, 0x3c); // a constant pattern stands in for weights
  for (const p of parts) {
    if (typeof p !== 'number') {
      if (!out.write(p)) await once(out, 'drain');
      continue;
    }
    for (let left = p; left > 0; left -= chunk.length) {
      if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

/** The ONNX models: a MatMul chain over inline float initializers (raw_data), one node per initializer. */
const ONNX_MODELS = [
  { what: '24 inline initializers of 64 MiB', count: 24, side: 4096 },
  { what: '1000 initializers of 64 KiB', count: 1000, side: 128 },
  { what: '10000 initializers of 4 KiB', count: 10000, side: 32 },
];

const PY_BIG_SAVEDMODEL = `
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
v1 = tf.compat.v1
d = sys.argv[1]
with tf.Graph().as_default() as g:
    x = v1.placeholder(tf.float32, [None, 1024], name="x")
    big = tf.constant(np.full((int(sys.argv[2]), 1024), 0.5, dtype=np.float32), name="big")
    y = tf.matmul(x, big, transpose_b=True)
    info = v1.saved_model.utils.build_tensor_info
    sig = v1.saved_model.signature_def_utils.build_signature_def({"x": info(x)}, {"y": info(y)}, "tensorflow/serving/predict")
    with v1.Session(graph=g) as s:
        b = v1.saved_model.Builder(d)
        b.add_meta_graph_and_variables(s, ["serve"], signature_def_map={"serving_default": sig})
        b.save()
`;

// ---------------------------------------------------------------- main

/** A time ratio as 'Nx faster', or as a fraction when Kiln is the slower one. */
const ratio = (r: number) => (r >= 10 ? `${r.toFixed(0)}x faster` : `${r.toFixed(2)}x (${r >= 1 ? 'faster' : 'slower'})`);

function fmt(kiln: { medianMs: number; firstMs: number; bytesRead: number; reads: number; rssBeforeMiB: number; peakRssMiB: number }, ref: { ms: number; peakRssMiB: number }, refName: string) {
  return [
    `  kiln: median ${kiln.medianMs.toFixed(2)} ms (first ${kiln.firstMs.toFixed(2)} ms), ${kiln.bytesRead} bytes in ${kiln.reads} reads, RSS ${kiln.rssBeforeMiB.toFixed(0)} MiB before, peak ${kiln.peakRssMiB.toFixed(0)} MiB`,
    `  ${refName}: ${ref.ms.toFixed(0)} ms, peak RSS ${ref.peakRssMiB.toFixed(0)} MiB`,
    `  ratio: ${ratio(ref.ms / kiln.medianMs)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-inference-'));
  try {
    const smDir = path.join(tmp, 'savedmodel');
    const gen = spawnSync('python3', ['-c', PY_BIG_SAVEDMODEL, smDir, '65536'], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`SavedModel generation failed: ${gen.stderr.slice(-2000)}`);
    const pb = path.join(smDir, 'saved_model.pb');
    const small = path.resolve(repoRoot, 'test/fixtures/third-party/hydrosphere/onnx_mnist');

    console.log(`node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} CPUs`);
    for (const m of ONNX_MODELS) {
      // One model on disk at a time (the largest is 1.5 GiB).
      const onnxDir = path.join(tmp, 'onnx');
      mkdirSync(onnxDir);
      const onnxFile = path.join(onnxDir, 'model.onnx');
      const initializers = Array.from({ length: m.count }, (_, i) => ({ name: `W${i}`, dims: [m.side, m.side] }));
      await writeParts(onnxFile, syntheticOnnx({ inputs: ['X'], outputs: ['Y'], initializers, width: m.side }));
      console.log(`ONNX ${(statSync(onnxFile).size / MiB).toFixed(0)} MiB (${m.what})`);
      const kOnnx = kiln('onnx', onnxDir);
      const pOnnx = python('onnx', onnxFile);
      console.log(fmt(kOnnx, pOnnx, 'python onnx.load'));
      rmSync(onnxDir, { recursive: true, force: true });
    }
    const kSmall = kiln('onnx', small);
    console.log(`  kiln on mnist.onnx (27 KiB) for comparison: peak RSS ${kSmall.peakRssMiB.toFixed(0)} MiB, ${kSmall.bytesRead} bytes read`);

    console.log(`SavedModel: saved_model.pb ${(statSync(pb).size / MiB).toFixed(0)} MiB (a 256 MiB constant in graph_def)`);
    const kSm = kiln('savedmodel', smDir);
    const pParse = python('savedmodel', smDir, 'parse');
    const pLoad = python('savedmodel', smDir, 'load');
    console.log(fmt(kSm, pParse, 'TF loader_impl.parse_saved_model'));
    console.log(`  tf.saved_model.load: ${pLoad.ms.toFixed(0)} ms, peak RSS ${pLoad.peakRssMiB.toFixed(0)} MiB; ratio ${(pLoad.ms / kSm.medianMs).toFixed(0)}x`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const i = process.argv.indexOf('--measure');
if (i >= 0) await measureKiln(process.argv[i + 1] as 'onnx' | 'savedmodel', process.argv[i + 2]);
else await main();
