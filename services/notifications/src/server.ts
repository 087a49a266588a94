import { runService } from '@cruise/shared';
import manifest from './service.ts';

await runService(manifest);
