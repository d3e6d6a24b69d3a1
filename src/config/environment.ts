import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';

/**
 * The raw environment as the service accepts it. Every variable of API.md's configuration table is here;
 * `loadConfig` turns it into the typed, namespaced `AppConfig`.
 */
// Environment values are strings; anything else is passed through for the validators to reject.
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : typeof value === 'string' && /^-?\d+$/.test(value)
      ? Number(value)
      : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return value;
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

export class Environment {
  @IsOptional()
  @IsIn(['development', 'test', 'production'])
  NODE_ENV?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  HOST?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  PUBLIC_URL?: string;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  DB_MIGRATIONS_RUN?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  DB_POOL_SIZE?: number;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  JWT_SECRET!: string;

  @IsOptional()
  @IsString()
  JWT_PREVIOUS_SECRETS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  JWT_AUDIENCE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(86400)
  ACCESS_TOKEN_TTL?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  REFRESH_TOKEN_TTL?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  REFRESH_TOKEN_IDLE_TTL?: number;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  TOKEN_ENCRYPTION_KEY!: string;

  /** Comma-separated keys that only decrypt: the old key during a rotation. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  TOKEN_ENCRYPTION_PREVIOUS_KEYS?: string;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  KAKAO_REST_API_KEY!: string;

  @IsOptional()
  @IsString()
  KAKAO_CLIENT_SECRET?: string;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  KAKAO_ADMIN_KEY!: string;

  @IsString()
  @IsNotEmpty({ message: 'is required' })
  @Matches(/^\d{1,19}$/, { message: 'must be the numeric app id' })
  KAKAO_APP_ID!: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  KAKAO_REDIRECT_URI?: string;

  @IsOptional()
  @IsString()
  KAKAO_EXTRA_AUDIENCES?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  KAKAO_AUTH_BASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  KAKAO_API_BASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  KAKAO_ISSUER?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  KAKAO_SCOPES?: string;

  // Empty means the default here too; `none` asks for no required item.
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  KAKAO_REQUIRED_ITEMS?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  KAKAO_HTTP_TIMEOUT_MS?: number;

  @IsOptional()
  @IsString()
  ALLOWED_RETURN_URLS?: string;

  @IsOptional()
  @IsString()
  ALLOWED_CODE_REDIRECT_URIS?: string;

  @IsOptional()
  @IsString()
  SERVICE_CLIENTS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['withdraw', 'withdraw-all'])
  UNLINK_WEBHOOK_POLICY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  TERMS_CATALOG_FILE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(log|smtps?:\/\/\S+)$/, { message: 'must be "log" or an smtp:// URL' })
  MAIL_TRANSPORT?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  DEMO_ENABLED?: boolean;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  QUEUE_WORKERS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_AUTH_PER_MINUTE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_ACCOUNT_FAILURES_PER_MINUTE?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  TRUST_PROXY?: string;
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    // The first problem of each variable is the one to fix first; a list of keys may break one rule per entry.
    const named = new Set<string>();
    const firsts = problems.filter((p) => {
      const name = /^[A-Z][A-Z0-9_]*/.exec(p)?.[0] ?? p;
      if (named.has(name)) return false;
      named.add(name);
      return true;
    });
    super(`Invalid configuration: ${firsts.join('; ')}`);
    this.problems = firsts;
    this.name = 'ConfigError';
  }
}

/** One problem per variable, naming it once: "DATABASE_URL is required", "PORT must be an integer number". */
function describe(errors: ValidationError[]): string[] {
  return errors.map((e) => {
    const constraints = e.constraints ?? {};
    // class-validator reports every rule a value breaks, and an unset variable breaks them all ("must be a
    // string", "must match…"): what the operator needs to hear is that it is missing.
    const missing = e.value === undefined || e.value === '';
    const reasons = Object.values(constraints);
    const reason = (missing && constraints.isNotEmpty) || reasons[reasons.length - 1] || 'is invalid';
    // Default messages start with the property name ("PORT must be…"); ours do not.
    const text = reason.startsWith(`${e.property} `) ? reason.slice(e.property.length + 1) : reason;
    return `${e.property} ${text}`;
  });
}

/** Validates `env` and returns the typed raw environment, or throws a ConfigError naming each bad variable. */
export function validateEnvironment(env: NodeJS.ProcessEnv): Environment {
  // A value of spaces only is no value: a required key so set is missing, an optional one takes its default.
  const given = Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, value !== undefined && value.trim() === '' ? '' : value]),
  );
  const parsed = plainToInstance(Environment, given, { enableImplicitConversion: false });
  const errors = validateSync(parsed, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) throw new ConfigError(describe(errors));
  return parsed;
}
