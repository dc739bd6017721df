/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The bundle goes into the Go package that embeds it (internal/webapp), so
// `go build` needs no Node. Served at /app/ by the Go server; `npm run dev`
// serves the same base and calls the API at VITE_CHRONICLE_API (default
// http://localhost:8080: cross-origin, which a development-mode server
// allows for localhost).
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: '../internal/webapp/dist',
    emptyOutDir: true,
    // Deterministic output: hashed names, no build-time data in files.
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
  server: { port: 5173, strictPort: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
