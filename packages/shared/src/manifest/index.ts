export * from './build.ts';
export * from './define.ts';
