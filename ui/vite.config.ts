import { defineConfig } from 'vite';

// No React plugin: Vite transforms TSX itself (jsx: react-jsx from tsconfig); the build needs no fast refresh.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:7071' },
  },
});
