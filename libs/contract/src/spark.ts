// Spark ML contracts: the columns a saved PipelineModel (or a single saved stage) reads and writes, from the stages'
// metadata JSON, never from their parquet data.
import { KilnError } from '@kiln/errors';
import type { ContractFormat, FileEntry } from './format';
import type { ModelFiles } from './source';
import { dim, field, tensor, type Field, type InferenceResult } from './types';

/** Stage metadata is one JSON line; anything this large is not stage metadata. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;
/** Pipelines nest (a PipelineModel stage, an RFormulaModel's pipelineModel/); deeper than this is a loop or junk. */
const MAX_DEPTH = 16;

/** A column's Spark type, as far as the metadata tells. */
export type ColumnType =
  | { kind: 'double' | 'int' | 'float' | 'string' | 'bool' | 'unknown' }
  /** array<string> and friends; `element` is the array's element kind. */
  | { kind: 'array'; element: 'string' | 'double' | 'unknown' }
  /** An ML vector of doubles; size -1 when the metadata does not give it. */
  | { kind: 'vector'; size: number };

const DOUBLE: ColumnType = { kind: 'double' };
const INT: ColumnType = { kind: 'int' };
const FLOAT: ColumnType = { kind: 'float' };
const STRING: ColumnType = { kind: 'string' };
const UNKNOWN: ColumnType = { kind: 'unknown' };
const STRINGS: ColumnType = { kind: 'array', element: 'string' };
const vector = (size = -1): ColumnType => ({ kind: 'vector', size: size > 0 ? size : -1 });

export const sparkFormat: ContractFormat = {
  name: 'spark',
  detect: (files) => findRoot(files) !== undefined,
  async infer(files: ModelFiles): Promise<InferenceResult> {
    const list = await files.list();
    const root = findRoot(list);
    if (root === undefined) throw new KilnError('INVALID_ARGUMENT', 'no Spark metadata/part-* file in the model');
    const reader = new StageReader(files, list);
    const top = await reader.read(root);
    const stages = await reader.leafStages(top, 0);
    const { inputs, outputs } = columnsOf(stages);
    return {
      contract: {
        signatures: [{ name: top.uid || 'default', method: '', inputs, outputs, tags: [] }],
        source: 'spark',
      },
      metadata: {
        'spark.version': top.sparkVersion,
        'spark.class': top.className,
        'spark.stages': stages.map((s) => shortName(s.className)).join(','),
      },
    };
  },
};

/** The model's folder: '' when `metadata/` is at the top, else the one folder holding it (an uploaded directory). */
function findRoot(files: FileEntry[]): string | undefined {
  const roots = files
    .map((f) => /^(?:([^/]+)\/)?metadata\/part-\d+[^/]*$/.exec(f.path))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => (m[1] ? `${m[1]}/` : ''));
  if (roots.includes('')) return '';
  return roots.sort()[0];
}

/** One saved stage: its metadata JSON and the folder it lives in. */
export interface StageMetadata {
  dir: string;
  className: string;
  uid: string;
  sparkVersion: string;
  /** Explicitly set params over the defaults Spark recorded (Spark 2.4+; older metadata has paramMap only). */
  params: Record<string, unknown>;
  /** The rest of the metadata object (numFeatures, numClasses... that some models record beside the params). */
  extra: Record<string, unknown>;
  /** Set on the stages of an RFormulaModel's inner pipeline: the RFormula's folder. */
  group?: string;
  /** On an RFormula's ColumnPruner: the one column of its group that survives (the features). */
  pruneGroupExcept?: string;
  /** On an RFormula's last inner stage: the label the RFormulaModel adds when the formula's response column is there. */
  rformulaLabel?: { response: string; labelCol: string };
}

class StageReader {
  private readonly paths: string[];

  constructor(
    private readonly files: ModelFiles,
    list: FileEntry[],
  ) {
    this.paths = list.map((f) => f.path);
  }

  /** The metadata of the stage saved in `dir` ('' or 'a/b/'). */
  async read(dir: string): Promise<StageMetadata> {
    // Spark 2/3 write metadata/part-00000, Spark 4 metadata/part-00000-<uuid>-c000.txt; empty parts are skipped.
    const part = this.paths.filter((p) => p.startsWith(`${dir}metadata/part-`) && !p.slice(dir.length + 9).includes('/')).sort();
    if (!part.length) throw new KilnError('INVALID_ARGUMENT', 'no metadata/part-* file', dir || '.');
    for (const p of part) {
      const file = await this.files.open(p);
      if (file.size === 0) continue;
      if (file.size > MAX_METADATA_BYTES) {
        throw new KilnError('INVALID_ARGUMENT', `stage metadata is larger than ${MAX_METADATA_BYTES} bytes`, p);
      }
      const text = (await file.read(0, file.size)).toString('utf8');
      return parseStage(text, dir, p);
    }
    throw new KilnError('INVALID_ARGUMENT', 'stage metadata is empty', part[0]);
  }

  /** The stages that transform data, in order: pipelines and other containers are opened up. */
  async leafStages(stage: StageMetadata, depth: number): Promise<StageMetadata[]> {
    if (depth > MAX_DEPTH) throw new KilnError('INVALID_ARGUMENT', `pipelines nested deeper than ${MAX_DEPTH}`, stage.dir);
    const name = shortName(stage.className);
    let children: StageMetadata[];
    if (name === 'PipelineModel' || name === 'Pipeline') children = await this.pipelineStages(stage);
    else if (name === 'RFormulaModel') {
      // RFormula's pipeline ends in a ColumnPruner that drops its temporary columns (their list is in the parquet
      // data): all the pipeline made but the features column.
      const inner = await this.leafStages(await this.read(`${stage.dir}pipelineModel/`), depth + 1);
      const features = typeof stage.params.featuresCol === 'string' ? stage.params.featuresCol : 'features';
      const labelCol = typeof stage.params.labelCol === 'string' ? stage.params.labelCol : 'label';
      const formula = typeof stage.params.formula === 'string' ? stage.params.formula : '';
      const response = formula.includes('~') ? formula.slice(0, formula.indexOf('~')).trim() : '';
      return inner.map((s, i) => ({
        ...s,
        group: stage.dir,
        ...(shortName(s.className) === 'ColumnPruner' ? { pruneGroupExcept: features } : {}),
        ...(i === inner.length - 1 && response ? { rformulaLabel: { response, labelCol } } : {}),
      }));
    } else if (name === 'CrossValidatorModel' || name === 'TrainValidationSplitModel') {
      children = [await this.read(`${stage.dir}bestModel/`)];
    } else return [stage];
    const out: StageMetadata[] = [];
    for (const child of children) out.push(...(await this.leafStages(child, depth + 1)));
    return out;
  }

  /** A pipeline's stages from `stages/<index>_<uid>/`, in the order of its stageUids param. */
  private async pipelineStages(pipeline: StageMetadata): Promise<StageMetadata[]> {
    const prefix = `${pipeline.dir}stages/`;
    // Stage folders by index and uid: uids alone are not unique (RFormula's inner stages share the RFormula's uid).
    const dirs = new Map<string, { index: number; uid: string; name: string }>();
    for (const p of this.paths) {
      if (!p.startsWith(prefix)) continue;
      const name = p.slice(prefix.length).split('/')[0];
      // Spark 2+ names a stage folder `<index>_<uid>`; Spark 1.6 zero-pads the index.
      const m = /^(\d+)_(.+)$/.exec(name);
      if (m) dirs.set(`${Number(m[1])}\0${m[2]}`, { index: Number(m[1]), uid: m[2], name });
    }
    const uids = pipeline.params.stageUids;
    let order: string[];
    if (Array.isArray(uids) && uids.every((u) => typeof u === 'string')) order = uids as string[];
    else if (uids === undefined) order = [...dirs.values()].sort((a, b) => a.index - b.index).map((d) => d.uid);
    else throw new KilnError('INVALID_ARGUMENT', 'stageUids is not a list of strings', `${pipeline.dir}metadata`);
    const stages: StageMetadata[] = [];
    for (const [i, uid] of order.entries()) {
      const d = dirs.get(`${i}\0${uid}`);
      if (!d) throw new KilnError('INVALID_ARGUMENT', `stage ${i} (${uid}) has no folder`, prefix);
      stages.push(await this.read(`${prefix}${d.name}/`));
    }
    return stages;
  }
}

export function parseStage(text: string, dir: string, location: string): StageMetadata {
  let json: unknown;
  try {
    // One JSON object on the first line (saveAsTextFile may add a newline).
    json = JSON.parse(text.trim());
  } catch (err) {
    throw new KilnError('INVALID_ARGUMENT', `corrupt stage metadata JSON: ${(err as Error).message}`, location);
  }
  if (!isObject(json)) throw new KilnError('INVALID_ARGUMENT', 'stage metadata is not a JSON object', location);
  const { class: className, uid, sparkVersion, paramMap, defaultParamMap, ...extra } = json;
  if (typeof className !== 'string' || !className) {
    throw new KilnError('INVALID_ARGUMENT', 'stage metadata has no class', location);
  }
  if (paramMap !== undefined && !isObject(paramMap)) throw new KilnError('INVALID_ARGUMENT', 'paramMap is not an object', location);
  if (defaultParamMap !== undefined && !isObject(defaultParamMap)) {
    throw new KilnError('INVALID_ARGUMENT', 'defaultParamMap is not an object', location);
  }
  return {
    dir,
    className,
    uid: typeof uid === 'string' ? uid : '',
    sparkVersion: typeof sparkVersion === 'string' ? sparkVersion : '',
    params: { ...(defaultParamMap ?? {}), ...(paramMap ?? {}) },
    extra,
  };
}

const shortName = (className: string) => className.slice(className.lastIndexOf('.') + 1);

// ------------------------------------------------------------------------------------------------ columns

/** What one stage reads (with the type it expects of a column no earlier stage made) and writes. */
interface StageColumns {
  reads: Array<{ name: string; type: ColumnType }>;
  writes: Array<{ name: string; type: ColumnType }>;
}

/** Column lookups for the stage rules: params with Spark's defaults, and the types of columns seen so far. */
class StageView {
  constructor(
    readonly stage: StageMetadata,
    private readonly known: (col: string) => ColumnType | undefined,
  ) {}

  /** A string param, or Spark's default for it (defaults matter for Spark 2.x metadata without defaultParamMap). */
  col(param: string): string | undefined {
    const v = this.stage.params[param];
    if (typeof v === 'string') return v;
    if (v !== undefined) return undefined;
    return SPARK_DEFAULT_COLUMNS[param] ?? (param === 'outputCol' ? `${this.stage.uid}__output` : undefined);
  }

  cols(param: string): string[] {
    const v = this.stage.params[param];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  /** Single- or multi-column stages (StringIndexer, Bucketizer, Imputer...): inputCol/outputCol pairs. */
  pairs(): Array<[string, string]> {
    const ins = this.cols('inputCols');
    if (ins.length) return ins.map((c, i) => [c, this.cols('outputCols')[i] ?? `${this.stage.uid}__output_${i}`]);
    const input = this.col('inputCol');
    return input ? [[input, this.col('outputCol')!]] : [];
  }

  num(param: string): number {
    const v = this.stage.params[param] ?? this.stage.extra[param];
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : -1;
  }

  typeOf(col: string | undefined): ColumnType | undefined {
    return col === undefined ? undefined : this.known(col);
  }

  /** The size of a vector column seen earlier, -1 when unknown. */
  sizeOf(col: string | undefined): number {
    const t = this.typeOf(col);
    return t?.kind === 'vector' ? t.size : -1;
  }
}

/** Documented defaults of the shared column params (HasFeaturesCol, HasPredictionCol...). */
const SPARK_DEFAULT_COLUMNS: Record<string, string> = {
  featuresCol: 'features',
  labelCol: 'label',
  predictionCol: 'prediction',
  probabilityCol: 'probability',
  rawPredictionCol: 'rawPrediction',
  topicDistributionCol: 'topicDistribution',
  userCol: 'user',
  itemCol: 'item',
  itemsCol: 'items',
};

type StageRule = (v: StageView) => StageColumns;

const read = (name: string | undefined, type: ColumnType) => (name ? [{ name, type }] : []);
const write = read;

/** Vector in, vector of the same size out (scalers, IDF, Normalizer...). */
const sameSizeVector: StageRule = (v) => {
  const input = v.col('inputCol');
  return { reads: read(input, vector()), writes: write(v.col('outputCol'), vector(v.sizeOf(input))) };
};

/** Feature selectors read featuresCol; how many features they keep is in their data. */
const selector: StageRule = (v) => ({ reads: read(v.col('featuresCol'), vector()), writes: write(v.col('outputCol'), vector()) });

/** Optional output columns are produced only when set to a non-empty name. */
const optional = (v: StageView, param: string, type: ColumnType) => {
  const name = v.stage.params[param];
  return typeof name === 'string' && name ? [{ name, type }] : [];
};

/** Classifiers: features in; prediction, raw prediction and (for probabilistic ones) probability out. */
function classifier(
  probabilistic: boolean,
  classes: (v: StageView) => number = (v) => v.num('numClasses'),
  // A forest's leafCol holds one leaf index per tree (a vector); a single tree's is one double.
  leaf: (v: StageView) => ColumnType = (v) => vector(v.num('numTrees')),
): StageRule {
  return (v) => {
    const n = classes(v);
    return {
      reads: read(v.col('featuresCol'), vector(v.num('numFeatures'))),
      writes: [
        ...write(v.col('rawPredictionCol'), vector(n)),
        ...(probabilistic ? write(v.col('probabilityCol'), vector(n)) : []),
        ...write(v.col('predictionCol'), DOUBLE),
        ...optional(v, 'leafCol', leaf(v)),
      ],
    };
  };
}

/** Regressors: features in, prediction out, plus the optional columns some of them have. */
function regressor(extra: (v: StageView) => StageColumns['writes'] = () => []): StageRule {
  return (v) => ({
    reads: read(v.col('featuresCol'), vector(v.num('numFeatures'))),
    writes: [...write(v.col('predictionCol'), DOUBLE), ...extra(v)],
  });
}

/** Per-column stages whose outputs are doubles (indexers, bucketizers, imputers). */
function perColumn(inType: ColumnType, outType: ColumnType): StageRule {
  return (v) => {
    const pairs = v.pairs();
    return { reads: pairs.map(([i]) => ({ name: i, type: inType })), writes: pairs.map(([, o]) => ({ name: o, type: outType })) };
  };
}

/** Spark's standard stage classes by short name. Unknown classes fall back to `genericStage`. */
const STAGE_RULES: Record<string, StageRule> = {
  // Text.
  Tokenizer: (v) => ({ reads: read(v.col('inputCol'), STRING), writes: write(v.col('outputCol'), STRINGS) }),
  RegexTokenizer: (v) => ({ reads: read(v.col('inputCol'), STRING), writes: write(v.col('outputCol'), STRINGS) }),
  StopWordsRemover: perColumn(STRINGS, STRINGS),
  NGram: (v) => ({ reads: read(v.col('inputCol'), STRINGS), writes: write(v.col('outputCol'), STRINGS) }),
  HashingTF: (v) => ({
    reads: read(v.col('inputCol'), STRINGS),
    // Spark's default numFeatures is 2^18.
    writes: write(v.col('outputCol'), vector(v.num('numFeatures') > 0 ? v.num('numFeatures') : 1 << 18)),
  }),
  // vocabSize is an upper bound: the real vocabulary (in the data) may be smaller.
  CountVectorizerModel: (v) => ({ reads: read(v.col('inputCol'), STRINGS), writes: write(v.col('outputCol'), vector()) }),
  Word2VecModel: (v) => ({
    reads: read(v.col('inputCol'), STRINGS),
    writes: write(v.col('outputCol'), vector(v.num('vectorSize') > 0 ? v.num('vectorSize') : 100)),
  }),
  IDFModel: sameSizeVector,
  // Categorical and numeric columns.
  StringIndexerModel: perColumn(STRING, DOUBLE),
  IndexToString: (v) => ({ reads: read(v.col('inputCol'), DOUBLE), writes: write(v.col('outputCol'), STRING) }),
  OneHotEncoderModel: perColumn(DOUBLE, vector()),
  OneHotEncoder: perColumn(DOUBLE, vector()), // Spark 2's transformer
  Bucketizer: perColumn(DOUBLE, DOUBLE),
  ImputerModel: perColumn(DOUBLE, DOUBLE),
  Binarizer: (v) => {
    // Binarizer turns a vector into a vector of the same size, a number into a double.
    const pairs = v.pairs();
    return {
      reads: pairs.map(([name]) => ({ name, type: DOUBLE })),
      writes: pairs.map(([i, name]) => {
        const t = v.typeOf(i);
        return { name, type: t?.kind === 'vector' ? t : DOUBLE };
      }),
    };
  },
  VectorAssembler: (v) => {
    const ins = v.cols('inputCols');
    const sizes = ins.map((c) => {
      const t = v.typeOf(c);
      return !t || t.kind === 'double' || t.kind === 'int' || t.kind === 'float' || t.kind === 'bool' ? 1 : t.kind === 'vector' ? t.size : -1;
    });
    const size = sizes.some((s) => s < 0) ? -1 : sizes.reduce((a, b) => a + b, 0);
    return { reads: ins.map((name) => ({ name, type: DOUBLE })), writes: write(v.col('outputCol'), vector(size)) };
  },
  Interaction: (v) => ({ reads: v.cols('inputCols').map((name) => ({ name, type: UNKNOWN })), writes: write(v.col('outputCol'), vector()) }),
  FeatureHasher: (v) => ({
    reads: v.cols('inputCols').map((name) => ({ name, type: UNKNOWN })),
    writes: write(v.col('outputCol'), vector(v.num('numFeatures') > 0 ? v.num('numFeatures') : 1 << 18)),
  }),
  // Vectors.
  StandardScalerModel: sameSizeVector,
  MinMaxScalerModel: sameSizeVector,
  MaxAbsScalerModel: sameSizeVector,
  RobustScalerModel: sameSizeVector,
  Normalizer: sameSizeVector,
  ElementwiseProduct: sameSizeVector,
  DCT: sameSizeVector,
  VectorIndexerModel: sameSizeVector,
  PolynomialExpansion: (v) => ({ reads: read(v.col('inputCol'), vector()), writes: write(v.col('outputCol'), vector()) }),
  PCAModel: (v) => ({ reads: read(v.col('inputCol'), vector()), writes: write(v.col('outputCol'), vector(v.num('k'))) }),
  VectorSlicer: (v) => {
    const n = v.cols('names').length + (Array.isArray(v.stage.params.indices) ? v.stage.params.indices.length : 0);
    return { reads: read(v.col('inputCol'), vector()), writes: write(v.col('outputCol'), vector(n)) };
  },
  // A size check that passes its column through.
  VectorSizeHint: (v) => ({ reads: read(v.col('inputCol'), vector(v.num('size'))), writes: [] }),
  ChiSqSelectorModel: selector,
  UnivariateFeatureSelectorModel: selector,
  VarianceThresholdSelectorModel: selector,
  // Classification.
  LogisticRegressionModel: classifier(true),
  DecisionTreeClassificationModel: classifier(true, undefined, () => DOUBLE),
  RandomForestClassificationModel: classifier(true),
  // GBT classification is binary only.
  GBTClassificationModel: classifier(true, () => 2),
  MultilayerPerceptronClassificationModel: classifier(true, (v) => {
    const layers = v.stage.params.layers;
    return Array.isArray(layers) && typeof layers[layers.length - 1] === 'number' ? layers[layers.length - 1] : -1;
  }),
  NaiveBayesModel: classifier(true),
  FMClassificationModel: classifier(true, () => 2),
  LinearSVCModel: classifier(false, () => 2),
  OneVsRestModel: classifier(false),
  // Regression.
  LinearRegressionModel: regressor(),
  DecisionTreeRegressionModel: regressor((v) => [...optional(v, 'varianceCol', DOUBLE), ...optional(v, 'leafCol', DOUBLE)]),
  RandomForestRegressionModel: regressor((v) => optional(v, 'leafCol', vector(v.num('numTrees')))),
  GBTRegressionModel: regressor((v) => optional(v, 'leafCol', vector(v.num('numTrees')))),
  GeneralizedLinearRegressionModel: regressor((v) => optional(v, 'linkPredictionCol', DOUBLE)),
  AFTSurvivalRegressionModel: regressor((v) => optional(v, 'quantilesCol', vector())),
  FMRegressionModel: regressor(),
  IsotonicRegressionModel: (v) => ({ reads: read(v.col('featuresCol'), DOUBLE), writes: write(v.col('predictionCol'), DOUBLE) }),
  // Clustering: cluster indices are integers.
  KMeansModel: (v) => ({ reads: read(v.col('featuresCol'), vector()), writes: write(v.col('predictionCol'), INT) }),
  BisectingKMeansModel: (v) => ({ reads: read(v.col('featuresCol'), vector()), writes: write(v.col('predictionCol'), INT) }),
  GaussianMixtureModel: (v) => ({
    reads: read(v.col('featuresCol'), vector()),
    writes: [...write(v.col('predictionCol'), INT), ...write(v.col('probabilityCol'), vector(v.num('k')))],
  }),
  LocalLDAModel: (v) => ({ reads: read(v.col('featuresCol'), vector()), writes: write(v.col('topicDistributionCol'), vector(v.num('k'))) }),
  DistributedLDAModel: (v) => ({ reads: read(v.col('featuresCol'), vector()), writes: write(v.col('topicDistributionCol'), vector(v.num('k'))) }),
  // Recommendation and pattern mining.
  ALSModel: (v) => ({
    reads: [...read(v.col('userCol'), INT), ...read(v.col('itemCol'), INT)],
    writes: write(v.col('predictionCol'), FLOAT),
  }),
  FPGrowthModel: (v) => ({
    reads: read(v.col('itemsCol'), { kind: 'array', element: 'unknown' }),
    writes: write(v.col('predictionCol'), { kind: 'array', element: 'unknown' }),
  }),
  SQLTransformer: (v) => ({ reads: [], writes: sqlAliases(v.stage.params.statement).map((name) => ({ name, type: UNKNOWN })) }),
  // RFormula's helpers have no column params: they change nothing the metadata can tell.
  VectorAttributeRewriter: () => ({ reads: [], writes: [] }),
  ColumnPruner: () => ({ reads: [], writes: [] }),
};

/**
 * The columns an SQLTransformer statement names in its select list (`expr AS name`, or `expr name`): it makes them,
 * so a later stage reading one does not make it a model input. What the statement reads is not told: a select list
 * may use any column, and guessing would list false inputs. Only the select list of `SELECT ... FROM __THIS__` is
 * looked at; anything else (a subquery, a join) makes nothing the contract can name.
 */
export function sqlAliases(statement: unknown): string[] {
  if (typeof statement !== 'string') return [];
  const m = /^\s*SELECT\s+([\s\S]*?)\s+FROM\s+__THIS__\b/i.exec(statement);
  // A subquery: its select list is not the statement's.
  if (!m || /\b(SELECT|FROM)\b/i.test(m[1])) return [];
  const names: string[] = [];
  for (const raw of topLevelItems(m[1])) {
    const item = raw.trim();
    // `expr AS name`, or `expr name` where expr ends in a value (a name, a literal, a call), not in DISTINCT or ALL.
    const as = /\bAS\s+([A-Za-z_]\w*|`[^`]+`)$/i.exec(item);
    const bare = /^([\s\S]*[\w)\]'"`])\s+([A-Za-z_]\w*|`[^`]+`)$/.exec(item);
    const name = as?.[1] ?? (bare && !/^(DISTINCT|ALL)$/i.test(bare[1].trim()) ? bare[2] : undefined);
    if (name) names.push(name.replace(/^`|`$/g, ''));
  }
  return names;
}

/** A select list split at its commas outside parentheses and quotes. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  items.push(list.slice(start));
  return items;
}

/** An unknown class: whatever column params it has, with unknown types. */
const genericStage: StageRule = (v) => {
  const p = v.stage.params;
  const str = (k: string) => (typeof p[k] === 'string' && p[k] ? [p[k] as string] : []);
  const reads = [...str('inputCol'), ...v.cols('inputCols'), ...str('featuresCol')];
  const writes = [
    ...str('outputCol'), ...v.cols('outputCols'), ...str('rawPredictionCol'), ...str('probabilityCol'), ...str('predictionCol'),
  ];
  return { reads: reads.map((name) => ({ name, type: UNKNOWN })), writes: writes.map((name) => ({ name, type: UNKNOWN })) };
};

/** Inputs: the columns stages read that no earlier stage wrote. Outputs: every column a stage writes, in order. */
export function columnsOf(stages: StageMetadata[]): { inputs: Field[]; outputs: Field[] } {
  const inputs = new Map<string, ColumnType>();
  const produced = new Map<string, ColumnType>();
  const groupOf = new Map<string, string | undefined>();
  const optional = new Set<string>();
  const known = (c: string) => produced.get(c) ?? inputs.get(c);
  for (const stage of stages) {
    const rule = STAGE_RULES[shortName(stage.className)] ?? genericStage;
    const { reads, writes } = rule(new StageView(stage, known));
    for (const r of reads) if (!produced.has(r.name) && !inputs.has(r.name)) inputs.set(r.name, r.type);
    for (const w of writes) {
      produced.set(w.name, w.type);
      groupOf.set(w.name, stage.group);
    }
    if (stage.pruneGroupExcept !== undefined) {
      for (const [col, group] of groupOf) {
        if (group === stage.group && col !== stage.pruneGroupExcept) produced.delete(col);
      }
    }
    const label = stage.rformulaLabel;
    // RFormulaModel casts the response to a double label when the data has it (a string response is indexed by an
    // inner StringIndexer instead, which already wrote the label): both columns are optional.
    if (label && !produced.has(label.labelCol)) {
      if (!produced.has(label.response) && !inputs.has(label.response)) {
        inputs.set(label.response, DOUBLE);
        optional.add(label.response);
      }
      produced.set(label.labelCol, DOUBLE);
      optional.add(label.labelCol);
    }
  }
  const toField = ([name, type]: [string, ColumnType]) => {
    const t = columnTensor(type);
    return field(name, optional.has(name) ? { type: 'optional', optional: { elementType: t } } : t);
  };
  return { inputs: [...inputs].map(toField), outputs: [...produced].map(toField) };
}

/** A column as a per-row tensor: scalars have shape [], arrays [-1], vectors [size]. */
export function columnTensor(t: ColumnType) {
  switch (t.kind) {
    case 'double': return tensor('DATA_TYPE_DOUBLE', []);
    case 'int': return tensor('DATA_TYPE_INT32', []);
    case 'float': return tensor('DATA_TYPE_FLOAT', []);
    case 'string': return tensor('DATA_TYPE_STRING', []);
    case 'bool': return tensor('DATA_TYPE_BOOL', []);
    case 'vector': return tensor('DATA_TYPE_DOUBLE', [dim(t.size)]);
    case 'array':
      return tensor(t.element === 'string' ? 'DATA_TYPE_STRING' : t.element === 'double' ? 'DATA_TYPE_DOUBLE' : 'DATA_TYPE_UNSPECIFIED', [dim(-1)]);
    case 'unknown': return tensor('DATA_TYPE_UNSPECIFIED', null);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
