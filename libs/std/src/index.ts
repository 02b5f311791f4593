// Small helpers every Kiln package may use, with no dependencies: each has one home here instead of a copy in
// every package that needs it.
export { forEachConcurrently } from './pool';
export { byPath, compareCodeUnits } from './order';
export { formatBytes } from './bytes';
