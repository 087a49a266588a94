// The operator console is served by the gateway at /console/ (services/gateway/src/plugins/browser-apps.ts).
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  plugins: [preact()],
  build: { target: 'es2022', sourcemap: false },
});
