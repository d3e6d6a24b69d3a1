export * from './app.exception';
export * from './error-codes';
export * from './error-response';
