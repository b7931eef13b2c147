/* host.js: what digits.js needs from Node to read files and resolve paths
 * ({fs: node:fs/promises, url: node:url, path: node:path}), empty until
 * the package's Node entry (digits-node.js) fills it, or digits.js itself
 * through process.getBuiltinModule. A module of its own so that the entry
 * and digits.js share it without digits.js importing any node: module. */
export const host = { fs: null, url: null, path: null };
