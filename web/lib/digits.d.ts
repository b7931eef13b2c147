/* digits.d.ts: the types of digits.js, the whole public API (the npm
 * package's "types"; digits-node.js exports the same). docs/api.md says
 * what each does; tests/package checks these against the module. */

/// <reference lib="dom" />
/// <reference lib="esnext.disposable" />

/** The three WebAssembly builds: relaxed SIMD (with fused multiply-add), SIMD, plain. */
export type Build = 'relaxed' | 'simd' | 'plain';
/** Which build to load: 'auto' (the best this engine runs well), 'relaxed', true (simd), false (plain). */
export type SimdOption = 'auto' | 'relaxed' | boolean;
/** A URL, or a URL string (relative to the page; under Node, a path relative to the working directory). */
export type UrlLike = string | URL;
/** A model file (.safetensors): its URL or path, or its bytes. */
export type ModelSource = UrlLike | ArrayBuffer | ArrayBufferView;

/** RGBA pixels, 4 bytes a pixel, rows top to bottom. ImageData is one. */
export interface Pixels {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** What predict reads: pixels, anything the browser can draw, or image bytes it decodes (Blob, File). */
export type ImageSource = ImageData | Pixels | HTMLCanvasElement | OffscreenCanvas | ImageBitmap |
  HTMLImageElement | HTMLVideoElement | SVGImageElement | VideoFrame | Blob;
/** What predictSync reads: every ImageSource but a Blob (and an <img> must be decoded already). */
export type SyncImageSource = Exclude<ImageSource, Blob>;

/** Floats of n 28x28 inputs (ink 1, paper 0), row by row. */
export type FloatInput = Float32Array | ArrayLike<number>;
/** One class label (0..9) per input. */
export type Labels = ArrayLike<number>;

/** Where the WebAssembly builds are, and which to load. */
export interface LoadOptions {
  /** Which build (default 'auto'). */
  simd?: SimdOption;
  /** The URL of each build (for bundlers that hand out asset URLs); 'auto' picks among those given. */
  wasm?: Partial<Record<Build, UrlLike>>;
  /** The folder holding digits-{relaxed,simd,plain}.wasm (for self-hosting). */
  wasmBase?: UrlLike;
}

/** Options of createRecognizer without a worker. */
export interface RecognizerOptions extends LoadOptions {
  /** The model (default: the packaged default model). */
  model?: ModelSource;
  /** The number verifier readNumber reads touching digits with, or up to
   * NumberLimits.maxVerifiers window readers averaged (default: the packaged three,
   * verifier.safetensors, verifier2 and verifier3; null: none, loadVerifier later). */
  verifier?: ModelSource | ModelSource[] | null;
  /** Share the instance of another recognizer or trainer (then dispose() leaves it alone). */
  module?: DigitsModule;
  worker?: false;
}

/** Running in a Web Worker. */
export interface WorkerOptions {
  worker: true;
  /** Where digits-worker.js is, if not beside the module (bundlers that do not bundle workers). */
  workerUrl?: UrlLike;
}

/** Options of createRecognizer({ worker: true }). */
export interface RemoteRecognizerOptions extends LoadOptions, WorkerOptions {
  model?: ModelSource;
  verifier?: ModelSource | ModelSource[] | null;
}

/** The augmentation of training images (limits: degrees, fractions of the size, pixels). */
export interface AugmentOptions {
  rotate?: number;
  zoom?: number;
  shift?: number;
  shear?: number;
  thickness?: number;
}

/** What a trainer trains and how. */
export interface TrainerSettings {
  /** A built-in architecture ('mlp', 'cnn', 'lenet5', ...) or a layer spec (default 'mlp'). */
  arch?: string;
  /** A model to fine-tune instead of a new network. */
  model?: ModelSource;
  /** Seed of the initial weights, shuffling and augmentation (default 1). */
  seed?: number;
  optimizer?: 'adam' | 'sgd';
  /** Learning rate (default 1e-3). */
  lr?: number;
  weightDecay?: number;
  /** false, true (the Keras defaults) or limits. */
  augment?: boolean | AugmentOptions;
}

/** Options of createTrainer without a worker. */
export interface TrainerOptions extends LoadOptions, TrainerSettings {
  module?: DigitsModule;
  worker?: false;
}

/** Options of createTrainer({ worker: true }). */
export interface RemoteTrainerOptions extends LoadOptions, TrainerSettings, WorkerOptions {}

/** [x, y, width, height] in the image's pixels. */
export type Box = [number, number, number, number];

/** What preprocessing found in an image. */
export interface PreprocessInfo {
  /** The ink read, or null when nothing was found. */
  box: Box | null;
  /** The early downscale factor of a large image (1: none). */
  scale: number;
  /** True when the paper's illumination was estimated and divided out (a photo). */
  photo: boolean;
  darkInk: boolean;
  /** Components kept as the digit, and dropped (lines, boxes, specks). */
  kept: number;
  dropped: number;
  lines: number;
  candidates: number;
}

/** A reading. digit is null when the image is empty or the reading uncertain. */
export interface Prediction {
  digit: number | null;
  /** The probability of digit (0 when null). */
  confidence: number;
  /** Ten probabilities (all 0 when digit is null). */
  probs: Float32Array;
  /** The 28x28 input the network saw. */
  input: Float32Array;
  /** No ink found. */
  empty: boolean;
  /** Several digit-sized shapes and no clear winner. */
  uncertain: boolean;
  box: Box | null;
  photo: boolean;
  /** Preprocessing's findings (null for predictInput). */
  info: PreprocessInfo | null;
  /** Milliseconds the call took. */
  ms: number;
}

/** One digit of a number. */
export interface NumberDigit {
  /** 0..9. */
  digit: number;
  /** Its probability. */
  confidence: number;
  /** Its ink in the image's pixels. */
  box: Box;
  /** Read with less than constants.NumberLimits.unsure: shown marked, not hidden. */
  uncertain: boolean;
  /** The network's ten probabilities for it. */
  probs: Float32Array;
}

/** A number read from an image (readNumber), digits left to right. */
export interface NumberReading {
  /** The digits as a string ("417"), or null when the image has no ink. */
  number: string | null;
  /** The weakest digit's confidence (0 when number is null). */
  confidence: number;
  digits: NumberDigit[];
  /** True when read through the photo path. */
  photo: boolean;
  /** Touching digits that were split apart. */
  split: number;
  /** More than constants.NumberLimits.maxDigits digits: the first ones kept. */
  truncated: boolean;
  /** Milliseconds the call took. */
  ms: number;
}

/** One layer of a model. */
export interface LayerInfo {
  name: string;
  kind: string;
  /** Output [height, width, channels]. */
  shape: [number, number, number];
  params: number;
  state: number;
}

/** A model's description. */
export interface ModelInfo {
  /** The layer spec. */
  arch: string;
  /** The architecture's name, if it has one. */
  archName: string | null;
  params: number;
  state: number;
  layerCount: number;
  layers: LayerInfo[];
  inputSize: number;
  outputSize: number;
  /** Size of the file it came from (0 for a new network). */
  bytes: number;
  /** The MNIST test accuracy stored in the file, if any (0..1). */
  testAccuracy: number | null;
  /** Every metadata entry of the file. */
  metadata: Record<string, string>;
}

export interface BatchOptions {
  /** Inputs per call into WebAssembly (default 256). */
  batch?: number;
}

export interface EvaluateOptions extends BatchOptions {
  /** Also return the probabilities. */
  probs?: boolean;
}

/** Mean loss and accuracy over n inputs. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  n: number;
  correct: number;
  probs: Float32Array | null;
}

/** Loss and accuracy of one training batch, before the update. */
export interface BatchResult {
  loss: number;
  accuracy: number;
}

export interface FitOptions {
  epochs?: number;
  batch?: number;
  /** The last valCount samples validate instead of train. */
  valCount?: number;
  /** Epochs without a validation gain before stopping early. */
  patience?: number;
}

/** The figures of a training run after its last call. */
export interface FitProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  /** NaN before an epoch's end, or without validation. */
  valLoss: number;
  valAccuracy: number;
  lr: number;
  seconds: number;
  done: boolean;
  improved: boolean;
  seen: number;
  batchLoss: number;
  batchAccuracy: number;
}

export interface FitResult {
  bestEpoch: number;
  epochsRun: number;
}

/** Layout of a C struct of int32 fields: each field's [byte offset, count]. */
export interface StructLayout {
  readonly bytes: number;
  readonly fields: Readonly<Record<string, readonly [number, number]>>;
}

/** Status codes of the core: 0 ok, negative a failure. */
export declare const Status: Readonly<{
  OK: number;
  ARG: number;
  NOMEM: number;
  IO: number;
  FORMAT: number;
  EMPTY: number;
  NUMERIC: number;
  STOPPED: number;
  UNCERTAIN: number;
}>;

/** The C values the module uses, generated from the C headers. */
export declare const constants: Readonly<{
  Status: typeof Status;
  /** Each status code's name, by code. */
  StatusName: Readonly<Record<string, string>>;
  ImageLimits: Readonly<{ maxDim: number; maxPixels: number }>;
  Optimizer: Readonly<{ sgd: number; adam: number }>;
  AugmentDefaults: Readonly<Required<AugmentOptions>>;
  LayerKinds: ReadonlyArray<Readonly<{ keyword: string; name: string }>>;
  /** The most digits a number holds, and the confidence below which a digit is uncertain. */
  NumberLimits: Readonly<{ maxDigits: number; unsure: number; maxVerifiers: number }>;
  NetInfo: StructLayout;
  PreprocessInfo: StructLayout;
  NumberResult: StructLayout;
  NumberDigit: StructLayout;
}>;

/** What every failure throws: the message (the core's, when it failed), the status code and its name. */
export declare class DigitsError extends Error {
  constructor(message: string, code: number, codeName?: string);
  name: 'DigitsError';
  /** A negative Status value. */
  code: number;
  /** Its name: 'bad argument', 'out of memory', 'i/o error', 'format error', ... */
  codeName: string;
}

/** A module that needs WebAssembly SIMD (feature detection). */
export declare const RELAXED_PROBE: Uint8Array;
/** Does this engine validate WebAssembly SIMD? */
export declare function simdSupported(): boolean;
/** Does it validate relaxed SIMD? */
export declare function relaxedSupported(): boolean;
/** Is this a browser whose SIMD computes wrongly (Safari 16.x)? */
export declare function simdBroken(userAgent?: string): boolean;
/** Would 'auto' choose a SIMD build here? */
export declare function preferSimd(userAgent?: string): boolean;
/** The build 'auto' chooses here. */
export declare function preferredBuild(userAgent?: string): Build;

/** Load (and compile once per URL) a build. Low level: most code wants createRecognizer or createTrainer. */
export declare function loadModule(options?: LoadOptions): Promise<DigitsModule>;

/** One instance of the core (low level). */
export declare class DigitsModule {
  private constructor();
  readonly variant: Build;
  readonly simd: boolean;
  /** The URL the build came from. */
  readonly url: URL;
  /** The core's build string (SIMD path, compiler). */
  readonly buildInfo: string;
  readonly exports: WebAssembly.Exports;
  readonly memory: WebAssembly.Memory;
  /** The built-in architectures' names. */
  archNames(): string[];
  /** A network from model file bytes. */
  loadNet(bytes: ArrayBuffer | Uint8Array): Net;
  /** A new network of an architecture (name or spec), weights from seed. */
  newNet(arch: string, seed?: number): Net;
  /** Pixels (1 to 4 channels) -> the 28x28 input, or null when empty. */
  preprocess(image: { data: Uint8ClampedArray | Uint8Array; width: number; height: number },
             channels?: number): Float32Array | null;
  /** Let go of the instance (unusable afterwards). */
  dispose(): void;
}

/** A network inside a module (low level). */
export declare class Net {
  private constructor();
  readonly inputSize: number;
  readonly outputSize: number;
  readonly takesImage: boolean;
  readonly bytes: number;
  info(): ModelInfo;
  meta(key: string): string | null;
  setMeta(entries: Record<string, string>): void;
  predictImage(image: Pixels): Prediction;
  readNumber(image: Pixels, verifier?: Net | Net[] | null): NumberReading;
  predictInput(x: FloatInput): Prediction;
  predictBatch(x: FloatInput, options?: BatchOptions): Float32Array;
  evaluate(x: FloatInput, labels: Labels, options?: EvaluateOptions): Evaluation;
  save(meta?: Record<string, string>): Uint8Array;
  free(): void;
}

/** Reads digits (createRecognizer). */
export declare class Recognizer implements Disposable {
  constructor(module: DigitsModule, options?: { owned?: boolean });
  readonly simd: boolean;
  readonly variant: Build;
  readonly buildInfo: string;
  readonly disposed: boolean;
  /** Replace the model; on failure the old one stays. */
  loadModel(model: ModelSource): Promise<ModelInfo>;
  /** Load the number verifier (28x28 or 28x28x2 inputs, or 28x36 windows; 11 outputs), or an
   * array of up to NumberLimits.maxVerifiers window readers (28x36) averaged; default the
   * packaged three; null: none. Resolves true when one is in use. */
  loadVerifier(verifier?: ModelSource | ModelSource[] | null): Promise<boolean>;
  info(): ModelInfo;
  predict(image: ImageSource): Promise<Prediction>;
  predictSync(image: SyncImageSource): Prediction;
  /** Every digit written side by side: the number, each digit's reading and box. */
  readNumber(image: ImageSource): Promise<NumberReading>;
  readNumberSync(image: SyncImageSource): NumberReading;
  /** A 28x28 input (an MNIST digit). */
  predictInput(x: FloatInput): Promise<Prediction>;
  predictInputSync(x: FloatInput): Prediction;
  /** n inputs -> n x 10 probabilities. */
  predictBatch(x: FloatInput, options?: BatchOptions): Float32Array;
  evaluate(x: FloatInput, labels: Labels, options?: EvaluateOptions): Evaluation;
  /** The model as .safetensors bytes, after setting metadata entries. */
  saveModel(meta?: Record<string, string>): Uint8Array;
  /** Free its memory; any later call throws a DigitsError. */
  dispose(): void;
  [Symbol.dispose](): void;
  /** The same as dispose(). */
  free(): void;
}

/** A training run driven one call at a time (Trainer.fit). */
export declare class Fit implements Disposable {
  private constructor();
  /** Start the next epoch: false when the run is over. */
  beginEpoch(): boolean;
  /** One batch: its sample count, 0 at the epoch's end. */
  step(): number;
  /** Validation, schedule and early stopping at an epoch's end. */
  endEpoch(): FitProgress;
  /** The best epoch's weights back in the network. */
  finish(): FitResult;
  progress(): FitProgress;
  dispose(): void;
  [Symbol.dispose](): void;
  free(): void;
}

/** Trains a network (createTrainer). */
export declare class Trainer implements Disposable {
  private constructor();
  readonly simd: boolean;
  readonly variant: Build;
  readonly buildInfo: string;
  readonly lr: number;
  readonly net: Net;
  setLearningRate(lr: number): void;
  setAugment(options: boolean | AugmentOptions): void;
  /** One step on a batch. */
  trainBatch(x: FloatInput, labels: Labels): BatchResult;
  /** The augmentation training applies, on n 28x28 inputs. */
  augment(x: FloatInput): Float32Array;
  /** A run of epochs over n samples (the CLI's epoch loop). */
  fit(x: FloatInput, labels: Labels, options?: FitOptions): Fit;
  evaluate(x: FloatInput, labels: Labels, options?: EvaluateOptions): Evaluation;
  predictBatch(x: FloatInput, options?: BatchOptions): Float32Array;
  predictInput(x: FloatInput): Prediction;
  info(): ModelInfo;
  saveModel(meta?: Record<string, string>): Uint8Array;
  dispose(): void;
  [Symbol.dispose](): void;
  free(): void;
}

/** A Recognizer in a Web Worker: the same methods, each returning a promise. */
export interface RemoteRecognizer extends Disposable {
  readonly simd: boolean;
  readonly variant: Build;
  readonly buildInfo: string;
  readonly disposed: boolean;
  loadModel(model: ModelSource): Promise<ModelInfo>;
  loadVerifier(verifier?: ModelSource | ModelSource[] | null): Promise<boolean>;
  info(): Promise<ModelInfo>;
  predict(image: ImageSource): Promise<Prediction>;
  readNumber(image: ImageSource): Promise<NumberReading>;
  predictInput(x: FloatInput): Promise<Prediction>;
  predictBatch(x: FloatInput, options?: BatchOptions): Promise<Float32Array>;
  evaluate(x: FloatInput, labels: Labels, options?: EvaluateOptions): Promise<Evaluation>;
  saveModel(meta?: Record<string, string>): Promise<Uint8Array>;
  /** Terminate the worker; pending and later calls reject with a DigitsError. */
  dispose(): void;
  free(): void;
}

/** A Fit in a Web Worker. */
export interface RemoteFit extends Disposable {
  beginEpoch(): Promise<boolean>;
  step(): Promise<number>;
  endEpoch(): Promise<FitProgress>;
  finish(): Promise<FitResult>;
  progress(): Promise<FitProgress>;
  dispose(): void;
  free(): void;
}

/** A Trainer in a Web Worker. */
export interface RemoteTrainer extends Disposable {
  readonly simd: boolean;
  readonly variant: Build;
  readonly buildInfo: string;
  readonly disposed: boolean;
  readonly lr: number;
  setLearningRate(lr: number): Promise<void>;
  setAugment(options: boolean | AugmentOptions): Promise<void>;
  trainBatch(x: FloatInput, labels: Labels): Promise<BatchResult>;
  augment(x: FloatInput): Promise<Float32Array>;
  fit(x: FloatInput, labels: Labels, options?: FitOptions): Promise<RemoteFit>;
  evaluate(x: FloatInput, labels: Labels, options?: EvaluateOptions): Promise<Evaluation>;
  predictBatch(x: FloatInput, options?: BatchOptions): Promise<Float32Array>;
  predictInput(x: FloatInput): Promise<Prediction>;
  info(): Promise<ModelInfo>;
  saveModel(meta?: Record<string, string>): Promise<Uint8Array>;
  dispose(): void;
  free(): void;
}

/** A recognizer: with no options, the packaged default model and the best build for this engine. */
export declare function createRecognizer(options: RemoteRecognizerOptions): Promise<RemoteRecognizer>;
export declare function createRecognizer(options?: RecognizerOptions): Promise<Recognizer>;
export declare function createRecognizer(
  options?: RecognizerOptions | RemoteRecognizerOptions): Promise<Recognizer | RemoteRecognizer>;

/** A trainer: a new network of options.arch, or options.model to fine-tune. */
export declare function createTrainer(options: RemoteTrainerOptions): Promise<RemoteTrainer>;
export declare function createTrainer(options?: TrainerOptions): Promise<Trainer>;
export declare function createTrainer(
  options?: TrainerOptions | RemoteTrainerOptions): Promise<Trainer | RemoteTrainer>;
