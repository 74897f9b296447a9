// After `vite build`: the page moves out of the static folder to valar/console/page/index.html,
// where only the /app/ view serves it (with its security headers; a copy under /static/ would be
// a second, unprotected way to the same page), and every built asset gets a .gz and a .br next
// to it so WhiteNoise serves them to clients that accept those encodings.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const built = new URL("../../valar/console/static/console/", import.meta.url).pathname;
const page = new URL("../../valar/console/page/", import.meta.url).pathname;
mkdirSync(page, { recursive: true });
renameSync(join(built, "index.html"), join(page, "index.html"));

const assets = join(built, "assets");
for (const name of readdirSync(assets)) {
  if (!/\.(js|css|svg)$/.test(name)) continue;
  const path = join(assets, name);
  const data = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  writeFileSync(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
