// Sound and vibration for an answer, where the device has them: a gate agent often looks at the
// passenger, not the screen. WebAudio needs a user gesture first; the sign-in tap provides it.
let audio: AudioContext | null = null;

export function unlockAudio(): void {
  const Ctx =
    globalThis.AudioContext ??
    (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  void audio?.resume().catch(() => {});
}

function beep(frequency: number, startS: number, durationS: number) {
  if (!audio) return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = 'square';
  osc.frequency.value = frequency;
  gain.gain.value = 0.08;
  osc.connect(gain).connect(audio.destination);
  const t = audio.currentTime + startS;
  osc.start(t);
  osc.stop(t + durationS);
}

export function signal(accepted: boolean): void {
  try {
    if (accepted) beep(1320, 0, 0.12);
    else {
      beep(220, 0, 0.18);
      beep(220, 0.25, 0.18);
    }
    navigator.vibrate?.(accepted ? 80 : [200, 100, 200]);
  } catch {
    // Sound and vibration are a courtesy; the screen carries the answer.
  }
}
