// main.ts: the Vite entry. The package finds its .wasm builds and default
// model through new URL(..., import.meta.url), which Vite follows: nothing
// to configure.
import { start } from './app';

void start();
