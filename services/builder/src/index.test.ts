// Image settings that no build could succeed with are refused when the builder starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@kiln/config';
import { checkImageSettings } from './index';

const images = (env: Record<string, string>) => loadConfig(env).images;

test('plain HTTP only to a loopback registry; a registry sink needs a registry', () => {
  assert.doesNotThrow(() => checkImageSettings(images({})));
  assert.doesNotThrow(() => checkImageSettings(images({ KILN_IMAGE_REGISTRY: '127.0.0.1:5000', KILN_IMAGE_REGISTRY_INSECURE: 'true' })));
  assert.doesNotThrow(() => checkImageSettings(images({ KILN_IMAGE_REGISTRY: 'registry.example.com' })));
  assert.throws(
    () => checkImageSettings(images({ KILN_IMAGE_REGISTRY: 'registry.example.com:5000', KILN_IMAGE_REGISTRY_INSECURE: 'true' })),
    { code: 'INVALID_ARGUMENT', message: /KILN_IMAGE_REGISTRY_INSECURE.*loopback registry, not registry.example.com:5000/ },
  );
  assert.throws(() => checkImageSettings(images({ KILN_IMAGE_SINK: 'registry' })), { code: 'INVALID_ARGUMENT', message: /KILN_IMAGE_REGISTRY/ });
});
