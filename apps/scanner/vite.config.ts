// The scanner is served by the gateway at /scanner/ (services/gateway/src/plugins/browser-apps.ts).
// vite-plugin-pwa writes the manifest and a Workbox service worker that precaches the app shell
// (every built file, by its hashed name), so the app opens and queues scans with no network.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  base: '/scanner/',
  plugins: [
    preact(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'Cruise gate scanner',
        short_name: 'Scanner',
        description: 'Scan and redeem cruise tickets at the gate',
        start_url: '/scanner/',
        scope: '/scanner/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#0b1320',
        theme_color: '#0b1320',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        navigateFallback: '/scanner/index.html',
        // The API is never served from the cache: a scan's answer must come from the server.
        navigateFallbackDenylist: [/^\/(api|venue|qr)\//],
      },
    }),
  ],
  build: { target: 'es2022', sourcemap: false },
});
