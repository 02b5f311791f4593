// @kiln/oci: reproducible OCI images from a model's files, and the sources and sinks they travel through.
export * from './types';
export * from './digest';
export * from './tar';
export * from './model-layers';
export * from './image';
