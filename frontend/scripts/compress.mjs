// Writes a .gz and a .br next to every built asset (text files only) so WhiteNoise can serve
// them to clients that accept those encodings, without compressing per request.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../../valar/console/static/console/assets/", import.meta.url).pathname;
for (const name of readdirSync(root)) {
  if (!/\.(js|css|svg)$/.test(name)) continue;
  const path = join(root, name);
  const data = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  writeFileSync(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
