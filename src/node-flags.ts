/**
 * Node flags the service runs with: `npm start`, `npm run dev`, the Dockerfile and the bench pass them on the
 * command line (V8 reads them when the heap is set up, so they cannot be set from inside the process).
 * src/node-flags.spec.ts checks that those places agree and that this Node still accepts each flag.
 *
 * `--no-memory-reducer`: V8's memory reducer shrinks the heap of an idle isolate (it was made for browser
 * tabs), and its watchdog forces a full memory-reducing collection whenever none has run for 100 s. Under
 * steady load the service's old space grows slowly enough that this watchdog is what collects it, on the main
 * thread, in the middle of traffic: 40-70 ms of marking in steps of up to 22 ms, and a scenario 1 p99 of 47
 * against the baseline's 15 ms over 90 s per side; without the reducer, 7.6 against 7.1 ms (2026-11-24,
 * bench/README.md). Regular collections still run when the old space reaches its limit, mostly on V8's
 * concurrent marking threads. The price: an idle instance keeps the heap its last load grew (tens of MB).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
