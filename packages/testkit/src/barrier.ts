// Lines concurrent racers up at one point (between a read and a write, say), so that a control run
// shows its race every time instead of when the timing happens to allow it.

/** Returns `arrive()`: each caller waits until `parties` callers have arrived, then all go on. */
export function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived++;
    if (arrived >= parties) open();
    return opened;
  };
}
