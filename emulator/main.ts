/**
 * The Kakao emulator as its own process: `node dist/emulator/main.js` (after `npm run build`). Configured by
 * the service's KAKAO_* variables plus EMULATOR_* ones (see config.ts, emulatorOptionsFromEnv, and README.md).
 */
import { emulatorOptionsFromEnv, startKakaoEmulator } from './index';

export { emulatorOptionsFromEnv };

async function main(): Promise<void> {
  const emulator = await startKakaoEmulator(emulatorOptionsFromEnv(process.env));
  process.stdout.write(`Kakao emulator listening on ${emulator.url} (control API: ${emulator.url}/__emulator)\n`);
  const stop = (signal: NodeJS.Signals) => {
    process.stdout.write(`Kakao emulator: ${signal}, closing\n`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// Only when run directly: importing this module (for emulatorOptionsFromEnv) starts nothing.
if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`Kakao emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
