/**
 * Reads what `perf script -F comm,pid,tid,ip,sym,dso` prints for samples recorded with call chains
 * (`perf record -g`) of Node processes started with `--perf-basic-prof
 * --interpreted-frames-native-stack`, and sorts them into where the time went: the layer's own
 * JavaScript, the runtime client, Node's core, garbage collection, the kernel, V8's compiler
 * threads. Used by `bench/warm-profile.ts`.
 */

/** One frame of a call chain. */
export interface Frame {
  /** The symbol as perf printed it (`JS:^name /path/file.js:10:5` for a JavaScript function). */
  symbol: string;
  /** The object it is in, as perf printed it (`[kernel.kallsyms]`, `/tmp/perf-123.map`, a path). */
  dso: string;
  /** For a JavaScript frame: its function name ('' when anonymous), file, line and V8 tier. */
  js?: JsFrame;
}

export interface JsFrame {
  name: string;
  file: string;
  line: number;
  /** `~` interpreted, `^` Sparkplug, `+` Maglev, `*` TurboFan (as V8 writes them in the perf map). */
  tier: string;
}

/** One sample: the thread it was taken on, and its call chain, innermost frame first. */
export interface PerfSample {
  thread: string;
  pid: number;
  tid: number;
  frames: Frame[];
}

const HEADER = /^(.*?)\s+(\d+)\/(\d+)\s*$/;
const FRAME = /^[0-9a-f]+\s+(.*)\s+\(([^()]*)\)$/;
const JS_SYMBOL = /^JS:([~^+*]?)'?(.*)$/;
const LOCATION = /^(.*):(\d+):\d+$/;

/** The samples of a `perf script` listing (blocks separated by blank lines); lines it cannot read are skipped. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((line) => line.trim() !== '');
    const header = HEADER.exec(lines[0]?.trim() ?? '');
    if (!header) continue;
    const frames: Frame[] = [];
    for (const line of lines.slice(1)) {
      const frame = FRAME.exec(line.trim());
      if (!frame) continue;
      const symbol = frame[1] as string;
      const js = jsFrame(symbol);
      frames.push(js ? { symbol, dso: frame[2] as string, js } : { symbol, dso: frame[2] as string });
    }
    samples.push({
      thread: header[1] as string,
      pid: Number(header[2]),
      tid: Number(header[3]),
      frames,
    });
  }
  return samples;
}

/** `JS:^name /path/file.js:10:5` (the name may hold spaces, as `get fired`, or be empty). */
function jsFrame(symbol: string): JsFrame | undefined {
  const match = JS_SYMBOL.exec(symbol);
  if (!match) return undefined;
  const rest = match[2] as string;
  const space = rest.lastIndexOf(' ');
  const location = LOCATION.exec(space < 0 ? rest : rest.slice(space + 1));
  if (!location) return undefined;
  return {
    name: space < 0 ? '' : rest.slice(0, space),
    file: location[1] as string,
    line: Number(location[2]),
    tier: match[1] as string,
  };
}

/** Where a sample's time went; the main thread's (thread ID = process ID) and the other threads' are told apart. */
export type Category =
  | 'layer JS'
  | 'runtime client JS'
  | 'Node core JS'
  | 'other JS'
  | 'GC'
  | 'runtime client native'
  | 'kernel'
  | 'other native'
  | 'workers: compiling'
  | 'workers: GC'
  | 'workers: other';

export const CATEGORIES: readonly Category[] = [
  'layer JS',
  'runtime client JS',
  'Node core JS',
  'other JS',
  'GC',
  'runtime client native',
  'kernel',
  'other native',
  'workers: compiling',
  'workers: GC',
  'workers: other',
];

const GC_SYMBOL = /Heap::|Scaveng|MarkCompact|Sweep|GarbageCollect|ConcurrentMarking|MinorMS/;
const COMPILER_SYMBOL =
  /compiler::|maglev::|Baseline(Compiler|Batch)|Compiler::|Parser::|interpreter::BytecodeGenerator/;

/**
 * The category of a sample. On the main thread, a sample with any frame in one of `layerFiles`
 * (the layer's own code, whatever it called into) is the layer's; else the innermost JavaScript
 * frame's file decides, then the native frames. On other threads: V8's compiler, its GC, or other.
 */
export function categorise(sample: PerfSample, layerFiles: (file: string) => boolean): Category {
  const { frames } = sample;
  if (sample.pid !== sample.tid) {
    if (frames.some((f) => COMPILER_SYMBOL.test(f.symbol))) return 'workers: compiling';
    if (frames.some((f) => GC_SYMBOL.test(f.symbol))) return 'workers: GC';
    return 'workers: other';
  }
  if (frames.some((f) => f.js !== undefined && layerFiles(f.js.file))) return 'layer JS';
  if (frames.some((f) => f.js === undefined && GC_SYMBOL.test(f.symbol))) return 'GC';
  const js = frames.find((f) => f.js !== undefined)?.js;
  if (js !== undefined) {
    if (js.file.includes('/aws-lambda-ric/')) return 'runtime client JS';
    if (js.file.startsWith('node:')) return 'Node core JS';
    return 'other JS';
  }
  if (frames.some((f) => f.dso.endsWith('rapid-client.node'))) return 'runtime client native';
  if (frames[0]?.dso === '[kernel.kallsyms]') return 'kernel';
  return 'other native';
}

/** Samples per category. */
export function byCategory(
  samples: readonly PerfSample[],
  layerFiles: (file: string) => boolean,
): Map<Category, number> {
  const counts = new Map<Category, number>(CATEGORIES.map((c) => [c, 0]));
  for (const sample of samples) {
    const category = categorise(sample, layerFiles);
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  return counts;
}

/**
 * Inclusive samples of each of the layer's functions on the main thread (a sample counts once for
 * every distinct function of the layer on its chain), keyed `name (file:line)`, largest first.
 */
export function layerFunctions(
  samples: readonly PerfSample[],
  layerFiles: (file: string) => boolean,
): [key: string, samples: number][] {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    if (sample.pid !== sample.tid) continue;
    const keys = new Set<string>();
    for (const frame of sample.frames) {
      const js = frame.js;
      if (js === undefined || !layerFiles(js.file)) continue;
      keys.add(`${js.name || '(anonymous)'} (${js.file.split('/').pop()}:${js.line})`);
    }
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
