// The camera and the QR decoder. Frames come from getUserMedia; the browser's BarcodeDetector decodes
// them where it exists (Chrome on Android, macOS, ChromeOS), else jsQR does on a downscaled frame.
// Each decode's cost is measured so the page can show it (and the browser test can report it).

export type DecoderName = 'BarcodeDetector' | 'jsQR';

interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface DetectorClass {
  new (opts: { formats: string[] }): Detector;
  getSupportedFormats(): Promise<string[]>;
}

/** Frames are decoded at most this wide: QR codes held up to a phone stay readable, the cost stays low. */
const MAX_DECODE_WIDTH = 640;
/** Pause between decodes (ms): about 8 decodes a second keeps a phone cool and is quick enough at a gate. */
const DECODE_INTERVAL_MS = 120;

export interface DecodeStats {
  decoder: DecoderName;
  frames: number;
  totalMs: number;
  lastMs: number;
}

type JsQR = typeof import('jsqr')['default'];

/** jsQR (about 40 kB gzipped) is loaded only where the browser has no BarcodeDetector. */
async function pickDecoder(): Promise<{ name: DecoderName; detector?: Detector; jsQR?: JsQR }> {
  const Native = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (Native) {
    try {
      if ((await Native.getSupportedFormats()).includes('qr_code')) {
        return { name: 'BarcodeDetector', detector: new Native({ formats: ['qr_code'] }) };
      }
    } catch {
      // fall through to jsQR
    }
  }
  return { name: 'jsQR', jsQR: (await import('jsqr')).default };
}

export interface CameraScanner {
  stop(): void;
  stats: DecodeStats;
}

/**
 * Starts the back camera in `video` and calls `onCode` with every decoded QR payload (also while the
 * same code stays in view: the caller decides what a repeat means). `onStats` follows the decode cost.
 */
export async function startCamera(
  video: HTMLVideoElement,
  onCode: (payload: string) => void,
  onStats: (stats: DecodeStats) => void,
): Promise<CameraScanner> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } },
    audio: false,
  });
  video.srcObject = stream;
  video.muted = true;
  video.setAttribute('playsinline', '');
  await video.play();
  const { name, detector, jsQR } = await pickDecoder();
  const stats: DecodeStats = { decoder: name, frames: 0, totalMs: 0, lastMs: 0 };
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function decodeOnce(): Promise<string | null> {
    if (detector) {
      const found = await detector.detect(video);
      return found[0]?.rawValue ?? null;
    }
    if (!ctx || !jsQR || video.videoWidth === 0) return null;
    const scale = Math.min(1, MAX_DECODE_WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })?.data ?? null;
  }

  async function tick() {
    if (stopped) return;
    if (video.readyState >= 2) {
      const started = performance.now();
      const payload = await decodeOnce().catch(() => null);
      stats.lastMs = performance.now() - started;
      stats.frames += 1;
      stats.totalMs += stats.lastMs;
      onStats({ ...stats });
      if (payload && !stopped) onCode(payload);
    }
    timer = setTimeout(tick, DECODE_INTERVAL_MS);
  }
  void tick();

  return {
    stats,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const track of stream.getTracks()) track.stop();
      video.srcObject = null;
    },
  };
}
