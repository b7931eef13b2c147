/* digits-node.js: the npm package's entry under Node (the `node` condition
 * of its exports): digits.js as it is, with Node's fs, url and path given
 * to it, so that models and builds are read from file: URLs and paths
 * (relative to the working directory). The browser entry, digits.js,
 * imports no node: module; this file is where they are.
 *
 * The three functions that create things are wrapped to hand Node over
 * first, rather than a top-level statement, so the module has no side
 * effects (package.json says so to bundlers). */

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as url from 'node:url';
import * as core from './digits.js';
import { host } from './host.js';

export * from './digits.js';

function useNode() {
  if (!host.fs) Object.assign(host, { fs, url, path });
}

/* digits.js loadModule, reading files with node:fs. */
export function loadModule(options) {
  useNode();
  return core.loadModule(options);
}

/* digits.js createRecognizer, reading files with node:fs ({ worker: true }
 * needs a browser). */
export function createRecognizer(options) {
  useNode();
  return core.createRecognizer(options);
}

/* digits.js createTrainer, reading files with node:fs. */
export function createTrainer(options) {
  useNode();
  return core.createTrainer(options);
}
