export * from './barrier.ts';
export * from './context.ts';
export * from './cursor-walk.ts';
export * from './databases.ts';
export * from './gateway-signing.ts';
export * from './infrastructure.ts';
export * from './processes.ts';
export * from './redis-server.ts';
