// Unit tests of `kiln watch`'s human view: plain lines on a pipe, a spinner that erases what it drew on a terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import { WatchView } from './format';

const version = (status: string) => ({ model: 'iris', version: '2', status: `MODEL_VERSION_STATUS_${status}` }) as unknown as ModelVersion__Output;

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, write: (t: string) => writes.push(t) }, writes };
}

describe('WatchView', () => {
  it('writes plain lines with no control characters when stderr is not a terminal', () => {
    const { out, writes } = recorder(false);
    const view = new WatchView(out);
    view.start();
    view.versionChanged(version('BUILDING'));
    view.tick();
    view.logLine('step 1');
    view.versionChanged(version('RELEASED'));
    view.stop();
    assert.equal(writes.join(''), 'iris:2 BUILDING\n  | step 1\niris:2 RELEASED\n');
  });

  it('on a terminal, erases the spinner line before each line and when it stops', () => {
    const { out, writes } = recorder(true);
    const view = new WatchView(out);
    view.versionChanged(version('BUILDING'));
    view.tick();
    view.tick();
    view.logLine('a short line');
    view.stop();
    assert.deepEqual(writes, [
      '\r\x1b[2Kiris:2 BUILDING\n',
      '\r\x1b[2K| iris:2 BUILDING',
      '\r\x1b[2K/ iris:2 BUILDING',
      // The log line is shorter than the spinner's: without the erase, "BUILDING" would show after it.
      '\r\x1b[2K  | a short line\n',
      '\r\x1b[2K',
    ]);
  });
});

describe('a version\'s text view', () => {
  it('nests the contract under its heading and shows a named dim a manifest fixed as name=size', async () => {
    const { versionText } = await import('./format');
    const v = {
      model: 'iris', version: '1', status: 'MODEL_VERSION_STATUS_RELEASED', failureReason: '', createTime: null, totalSize: '1', files: [],
      labels: {}, metadata: {}, imageReference: '', imageDigest: '', runtime: '', aliases: [], description: '',
      contract: {
        source: 'manifest',
        signatures: [{
          name: 'predict', method: '', tags: [], outputs: [],
          inputs: [{ name: 'x', profile: 'DATA_PROFILE_UNSPECIFIED', type: 'tensor', tensor: { dtype: 'DATA_TYPE_FLOAT', shape: { dims: [{ size: 8, name: 'batch' }, { size: 4, name: '' }] } } }],
        }],
      },
    } as unknown as ModelVersion__Output;
    const text = versionText(v);
    assert.match(text, /\n {2}contract:\n {4}source: manifest\n {4}signature predict\n/);
    assert.doesNotMatch(text, /left out/);
    const leftOut = versionText({ ...v, excludedPaths: ['a.tmp', 'b.tmp'], excludedFileCount: '5' } as unknown as ModelVersion__Output);
    assert.match(leftOut, /\n {2}left out: 5 file\(s\) outside the manifest's payload, not stored: a\.tmp, b\.tmp, and 3 more\n/);
    assert.match(text, /x: float\[batch=8, 4\]/);
  });
});
