// Builds the console into the Django app that serves it: valar/console/static/console/
// (index.html and hashed assets under assets/), referenced as /static/console/... .
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
