// Builds the console into the Django app that serves it: hashed assets under
// valar/console/static/console/assets/ (referenced as /static/console/...), and index.html,
// which scripts/postbuild.mjs moves to valar/console/page/ (served only by /app/).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/console/",
  build: {
    outDir: "../valar/console/static/console",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2020",
  },
});
