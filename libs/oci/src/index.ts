// @kiln/oci: reproducible OCI images from a model's files, and the sources and sinks they travel through.
export * from './types';
export * from './digest';
export * from './tar';
export * from './chunks';
export * from './model-layers';
export * from './stream-layer';
export * from './image';
export * from './platform';
export * from './registry/reference';
export * from './registry/transport';
export * from './registry/distribution';
export * from './registry/stream-upload';
export * from './registry/layer-index';
export * from './sinks/oci-layout';
export * from './sinks/registry';
export * from './sources/oci-layout';
export * from './sources/registry';
