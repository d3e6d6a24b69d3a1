import type { ResolvedConfig } from './config';
import type { FaultRegistry } from './faults';
import type { KeyRing } from './keys';
import type { EmulatorState } from './state';
import type { TokenService } from './tokens';

/** What the route modules share. */
export interface EmulatorContext {
  config: ResolvedConfig;
  state: EmulatorState;
  keys: KeyRing;
  tokens: TokenService;
  faults: FaultRegistry;
}
