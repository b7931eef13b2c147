// main-esbuild.ts: the esbuild entry. esbuild does not follow
// new URL(..., import.meta.url), so the builds and the model are imported
// through its file loader (--loader:.wasm=file --loader:.safetensors=file),
// which copies them and gives their URLs; the worker is a second entry
// point, digits-worker.js beside this bundle (see package.json).
import relaxed from 'digits-recognizer/digits-relaxed.wasm';
import simd from 'digits-recognizer/digits-simd.wasm';
import plain from 'digits-recognizer/digits-plain.wasm';
import model from 'digits-recognizer/default.safetensors';
import { start } from './app';

// (the file loader's URLs are relative to the page, as the module reads
// relative URLs)
void start({ wasm: { relaxed, simd, plain }, model });
