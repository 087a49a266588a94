// Structured JSON logs (pino, fastify's own logger) with the request id on every line of a request.
import { type Logger, type LoggerOptions, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, service: string): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["x-internal-token"]'],
      censor: '[redacted]',
    },
  };
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, service: string): Logger {
  return pino(loggerOptions(config, service));
}
