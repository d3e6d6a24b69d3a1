/**
 * Preloaded (`-r`) into the service that the storm and the soak restart, which runs with `--expose-gc`: SIGUSR2
 * makes it run a full collection. The soak reads RSS just after one at minute 2 and at the end, so both readings
 * sit at the same point of the heap's sawtooth (bench/README.md, the soak). Not part of the production build.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
