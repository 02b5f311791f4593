// Unit tests of responses encoded once: the server's serializer sends the stored bytes, which decode to the message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kilnProto } from './index';
import { asMessage, encodedBytes, encodeOnce, withEncodedResponses } from './encoded';
import type { ModelVersion } from '../generated/kiln/v1/ModelVersion';

const definition = kilnProto().kiln.v1.Registry.service;
const method = definition.GetModelVersion;
const message = (): ModelVersion => ({ model: 'iris', version: 3, status: 'MODEL_VERSION_STATUS_RELEASED', labels: { team: 'a' }, totalSize: 42 });

describe('encodeOnce', () => {
  it('serializes once; the server sends those bytes, which decode to the same message', () => {
    const serialize = withEncodedResponses(definition).GetModelVersion.responseSerialize;
    let calls = 0;
    const encoded = encodeOnce((v: ModelVersion) => {
      calls += 1;
      return method.responseSerialize(v);
    }, message());
    assert.equal(calls, 1);
    const sent = serialize(asMessage(encoded));
    assert.equal(sent, encodedBytes(encoded), 'the stored buffer itself');
    assert.equal(serialize(asMessage(encoded)), sent);
    assert.equal(calls, 1, 'never serialized again');
    assert.deepEqual(sent, method.responseSerialize(message()));
    const decoded = method.responseDeserialize(sent);
    assert.equal(decoded.model, 'iris');
    assert.equal(decoded.version, 3);
    assert.deepEqual(decoded.labels, { team: 'a' });
  });

  it('leaves plain messages to the method\'s own serializer', () => {
    const serialize = withEncodedResponses(definition).GetModelVersion.responseSerialize;
    assert.deepEqual(serialize(message()), method.responseSerialize(message()));
  });
});
