// assets.d.ts: what the bundlers' asset imports give (esbuild's file
// loader: the file's URL) and the style sheet import.
declare module '*.wasm' {
  const url: string;
  export default url;
}
declare module '*.safetensors' {
  const url: string;
  export default url;
}
declare module '*.css' {}
