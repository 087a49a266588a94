export * from './context.ts';
export * from './databases.ts';
export * from './infrastructure.ts';
export * from './processes.ts';
